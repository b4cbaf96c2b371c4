// Boot: ask for a reader token if the server wants one (kept in sessionStorage, for this
// browser session only), learn what the server serves, then go live.

import { type ComponentChild, render } from "preact";
import { useState } from "preact/hooks";
import { App } from "./app";
import { FrameBatcher } from "./frame";
import { GraphQLError, query, saveToken, savedToken } from "./http";
import { capabilities, Live } from "./live";
import { Model } from "./model";
import * as Q from "./queries";
import "./style.css";

const root = document.getElementById("app")!;
let mounted = false;

/** Replace what the page shows (the static boot text first, then Preact's own tree). */
function show(view: ComponentChild): void {
  if (!mounted) {
    root.textContent = "";
    mounted = true;
  }
  render(view, root);
}

function TokenPrompt(props: { message: string | null; onToken: (token: string) => void }) {
  const [value, setValue] = useState("");
  return (
    <form id="token-prompt" class="token" onSubmit={(e) => { e.preventDefault(); if (value.trim()) props.onToken(value.trim()); }}>
      <h1>tradestate</h1>
      <p>This server needs a token. Enter the reader token (kept for this browser session only).</p>
      {props.message ? <p class="error" role="alert">{props.message}</p> : null}
      <input type="password" name="token" autocomplete="off" placeholder="reader token" value={value}
        onInput={(e) => setValue((e.target as HTMLInputElement).value)} autofocus />
      <button type="submit">Open the dashboard</button>
    </form>
  );
}

async function probe(token: string | null): Promise<"ok" | "refused"> {
  try {
    await query(Q.PROBE, {}, token);
    return "ok";
  } catch (error) {
    if (error instanceof GraphQLError && (error.code === "UNAUTHENTICATED" || error.code === "FORBIDDEN")) return "refused";
    throw error;
  }
}

async function boot(token: string | null, message: string | null = null): Promise<void> {
  let outcome: "ok" | "refused";
  try {
    outcome = await probe(token);
  } catch (error) {
    show(<p class="boot error">Cannot reach the server: {String(error)}. Retrying…</p>);
    window.setTimeout(() => void boot(token), 2000);
    return;
  }
  if (outcome === "refused") {
    saveToken(null);
    const text = token ? "That token was refused. Check it and try again." : message;
    show(<TokenPrompt message={text} onToken={(t) => void boot(t)} />);
    return;
  }
  saveToken(token);
  const model = new Model();
  const frames = new FrameBatcher();
  const live = new Live(model, frames, await capabilities());
  show(<App model={model} frames={frames} live={live} />);
  (window as unknown as { tradestate: unknown }).tradestate = { model, live };
  await live.start();
}

void boot(savedToken());
