// Shared pieces of every panel: the frame with its loading placeholder, numeric cells.

import type { ComponentChildren } from "preact";
import { signed, tone } from "./format";

export function Panel(props: {
  id: string;
  title: string;
  loaded: boolean | null | undefined;
  wide?: boolean;
  extra?: ComponentChildren;
  children: ComponentChildren;
}) {
  const { id, title, loaded } = props;
  let body: ComponentChildren = props.children;
  if (loaded === null) {
    body = <p class="placeholder unavailable">Not available on this server.</p>;
  } else if (!loaded) {
    body = (
      <div class="placeholder loading" aria-busy="true">
        <span class="shimmer" />
        <span class="shimmer" />
        <span class="shimmer short" />
      </div>
    );
  }
  return (
    <section id={id} class={`panel${props.wide ? " wide" : ""}`} data-state={loaded === null ? "unavailable" : loaded ? "ready" : "loading"}>
      <header>
        <h2>{title}</h2>
        {props.extra}
      </header>
      <div class="panel-body">{body}</div>
    </section>
  );
}

export function Signed(props: { value: string | number | null | undefined; places?: number }) {
  return <span class={`num ${tone(props.value)}`}>{signed(props.value, props.places)}</span>;
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}
