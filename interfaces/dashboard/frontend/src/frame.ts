// Rendering batched per animation frame: any number of messages between two frames
// cost one render.

type Listener = () => void;

export class FrameBatcher {
  private listeners = new Set<Listener>();
  private scheduled = false;
  version = 0;

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.version++;
      for (const listener of this.listeners) listener();
    });
  }
}
