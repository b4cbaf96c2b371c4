// The page: header, STALE banner, alerts and the panels, re-rendered at most once per
// animation frame (FrameBatcher), and once a second for ages and countdowns.

import { useEffect, useState } from "preact/hooks";
import type { FrameBatcher } from "./frame";
import type { Live } from "./live";
import type { Model } from "./model";
import { Alerts, Chart, Lag, Market, Monitors, Orders, Positions, Signals, Totals, Trades } from "./panels";

function staleReason(model: Model, now: number): string | null {
  const c = model.connection;
  if (!c.connected) {
    const retry = c.retryAt ? ` — reconnecting in ${Math.max(0, Math.ceil((c.retryAt - now) / 1000))} s (attempt ${c.attempt})` : " — connecting";
    return `${c.reason ?? "not connected"}${retry}`;
  }
  const lagging = model.status?.projections.filter((p) => p.stale || p.error) ?? [];
  if (lagging.length) {
    return lagging.map((p) => (p.error ? `${p.name} stopped: ${p.error}` : `${p.name} is ${p.lag} events behind`)).join("; ");
  }
  return null;
}

export function App(props: { model: Model; frames: FrameBatcher; live: Live }) {
  const { model, frames, live } = props;
  const [version, setVersion] = useState(0);
  const [now, setNow] = useState(Date.now());
  useEffect(() => frames.subscribe(() => setVersion(frames.version)), []);
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const stale = model.connection.everConnected || model.connection.reason ? staleReason(model, now) : null;
  const accounts = [...model.accounts.keys()].sort();
  return (
    <div class={`page${stale ? " is-stale" : ""}`} data-version={version}>
      <header class="top">
        <h1>tradestate</h1>
        <span class={`conn ${model.connection.connected ? "up" : "down"}`} id="connection">
          {model.connection.connected ? "● live" : "○ offline"}
        </span>
        <span class="dim">head #{model.status?.headSequence ?? "…"}</span>
        {accounts.length > 1 ? (
          <select aria-label="account" value={live.selectedAccount ?? ""} onChange={(e) => {
            live.selectedAccount = (e.target as HTMLSelectElement).value;
            model.pnl = [];
            void live.loadPnl();
            frames.changed();
          }}>{accounts.map((a) => <option key={a} value={a}>{a}</option>)}</select>
        ) : null}
        <span class="dim right">v{model.status?.version ?? "…"}</span>
      </header>
      {stale ? <div id="stale" class="stale-banner" role="status"><strong>STALE</strong> {stale}</div> : null}
      <Alerts model={model} />
      <main class="grid">
        <Totals model={model} account={live.selectedAccount} />
        <Chart model={model} version={version} />
        <Positions model={model} now={now} />
        <Orders model={model} now={now} />
        <Trades model={model} />
        <Signals model={model} now={now} />
        <Monitors model={model} />
        <Market model={model} />
        <Lag model={model} />
      </main>
    </div>
  );
}
