// The dashboard's panels: each renders what the Model holds, nothing more.

import { PnlChart } from "./chart";
import { age, clock, decimal, signed, tone, until } from "./format";
import type { Model, Monitor, Position, Quote } from "./model";
import { Empty, Panel, Signed } from "./table";

const num = (v: string | null | undefined) => (v === null || v === undefined ? NaN : Number(v));

export function Totals(props: { model: Model; account: string | null }) {
  const { model, account } = props;
  const row = account ? model.accounts.get(account) : undefined;
  const loaded = model.loaded.accounts;
  return (
    <Panel id="totals" title={`Account${account ? " · " + account : ""}`} loaded={loaded}>
      {!row || !row.totals.length ? (
        <Empty>No fills yet: totals appear with the first trade.</Empty>
      ) : (
        row.totals.map((t) => (
          <div class="totals" key={t.currency ?? "-"}>
            <div data-figure="totalPnl" class="figure big"><label>Total P&L {t.currency ?? ""}</label><Signed value={t.totalPnl} /></div>
            <div data-figure="todayPnl" class="figure"><label>Today</label><Signed value={t.todayPnl} /></div>
            <div data-figure="realizedPnl" class="figure"><label>Realized</label><Signed value={t.realizedPnl} /></div>
            <div data-figure="unrealizedPnl" class="figure"><label>Unrealized</label><Signed value={t.unrealizedPnl} /></div>
            <div data-figure="commissionPaid" class="figure"><label>Commission</label><span class="num">{decimal(t.commissionPaid)}</span></div>
            <div data-figure="grossExposure" class="figure"><label>Gross exposure</label><span class="num">{decimal(t.grossExposure)}</span></div>
            <div data-figure="netExposure" class="figure"><label>Net exposure</label><Signed value={t.netExposure} /></div>
            <div data-figure="openPositions" class="figure"><label>Open positions</label><span class="num">{t.openPositions}</span></div>
          </div>
        ))
      )}
    </Panel>
  );
}

export function Chart(props: { model: Model; version: number }) {
  const { model } = props;
  return (
    <Panel id="pnl" title="P&L (1 min bars)" loaded={model.loaded.pnl} wide>
      {model.pnl.length ? <PnlChart bars={model.pnl} version={props.version} /> : <Empty>No P&L history yet.</Empty>}
    </Panel>
  );
}

function mark(position: Position, quotes: Map<string, Quote>): { price: number; unrealized: number | null } {
  const quote = quotes.get(position.instrument);
  const price = quote && quote.asOf >= position.asOf ? num(quote.last) : num(position.marketPrice);
  if (quote && quote.asOf >= position.asOf && position.averagePrice !== null) {
    return { price, unrealized: (price - num(position.averagePrice)) * num(position.quantity) };
  }
  return { price, unrealized: position.unrealizedPnl === null ? null : num(position.unrealizedPnl) };
}

export function Positions(props: { model: Model; now: number }) {
  const { model, now } = props;
  const open = [...model.positions.values()].filter((p) => p.status === "OPEN")
    .sort((a, b) => a.instrument.localeCompare(b.instrument));
  const head = model.status?.headSequence ?? 0;
  return (
    <Panel id="positions" title={`Positions (${open.length})`} loaded={model.loaded.positions} wide>
      {!open.length ? <Empty>No open positions.</Empty> : (
        <table>
          <thead><tr><th>Instrument</th><th class="hide-s">Account</th><th>Qty</th><th>Avg</th><th>Mark</th>
            <th>Unrealized</th><th>Realized</th><th class="hide-s" title="time since the row last changed; events behind the log head">Age</th></tr></thead>
          <tbody>{open.map((p) => {
            const m = mark(p, model.quotes);
            return (
              <tr key={p.id} data-id={p.id}>
                <td>{p.instrument}</td><td class="hide-s">{p.account}</td>
                <td class="num"><Signed value={p.quantity} /></td>
                <td class="num">{decimal(p.averagePrice)}</td>
                <td class="num">{Number.isFinite(m.price) ? decimal(m.price, 2) : "—"}</td>
                <td class="num"><Signed value={m.unrealized} places={2} /></td>
                <td class="num"><Signed value={p.realizedPnl} /></td>
                <td class="num dim hide-s" title={`asOf ${p.asOf}`}>{age(p.updatedAt, now)} · {Math.max(0, head - p.asOf)} ev</td>
              </tr>
            );
          })}</tbody>
        </table>
      )}
    </Panel>
  );
}

export function Orders(props: { model: Model; now: number }) {
  const orders = [...props.model.orders.values()].sort((a, b) => b.asOf - a.asOf);
  return (
    <Panel id="orders" title={`Working orders (${orders.length})`} loaded={props.model.loaded.orders}>
      {!orders.length ? <Empty>No working orders.</Empty> : (
        <table>
          <thead><tr><th>Instrument</th><th>Side</th><th>Qty</th><th>Filled</th><th>Limit</th><th>Status</th><th class="hide-m">Age</th></tr></thead>
          <tbody>{orders.slice(0, 50).map((o) => (
            <tr key={o.id} data-id={o.id}>
              <td>{o.instrument}</td><td class={`side ${o.side}`}>{o.side}</td>
              <td class="num">{decimal(o.quantity)}</td><td class="num">{decimal(o.filledQuantity)}</td>
              <td class="num">{o.type === "LIMIT" ? decimal(o.limitPrice) : "MKT"}</td>
              <td>{o.status === "PARTIALLY_FILLED" ? "PARTIAL" : o.status}</td>
              <td class="num dim hide-m">{age(o.updatedAt, props.now)}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </Panel>
  );
}

export function Trades(props: { model: Model }) {
  const trades = props.model.trades;
  return (
    <Panel id="trades" title="Trade log" loaded={props.model.loaded.trades}>
      {!trades.length ? <Empty>No trades yet.</Empty> : (
        <table>
          <thead><tr><th class="hide-s">Time</th><th>Instrument</th><th>Side</th><th>Qty</th><th>Price</th><th>P&L</th><th class="hide-m">Fee</th></tr></thead>
          <tbody>{trades.slice(0, 40).map((t) => (
            <tr key={t.fillId} data-fill={t.fillId} data-sequence={t.sequence}>
              <td class="dim hide-s">{clock(t.timestamp)}</td><td>{t.instrument}</td>
              <td class={`side ${t.side}`}>{t.side}</td>
              <td class="num">{decimal(t.quantity)}</td><td class="num">{decimal(t.price)}</td>
              <td class="num"><Signed value={t.realizedPnl} /></td>
              <td class="num hide-m">{decimal(t.commission)}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </Panel>
  );
}

export function Signals(props: { model: Model; now: number }) {
  const signals = [...props.model.signals.values()]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, 20);
  return (
    <Panel id="signals" title="Signals" loaded={props.model.loaded.signals}>
      {!signals.length ? <Empty>No signals yet.</Empty> : (
        <table>
          <thead><tr><th>Instrument</th><th>Side</th><th>Strength</th><th>Status</th><th>Expires in</th></tr></thead>
          <tbody>{signals.map((s) => (
            <tr key={s.id} data-id={s.id}>
              <td>{s.instrument}</td><td class={`side ${s.side}`}>{s.side}</td>
              <td class="num"><span class="meter" style={{ width: `${Math.min(100, num(s.strength) * 100)}%` }} />{decimal(s.strength, 2)}</td>
              <td><span class={`badge ${s.status.toLowerCase()}`}>{s.status}</span></td>
              <td class="num dim">{s.status === "PENDING" ? until(s.expiresAt, props.now) : "—"}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </Panel>
  );
}

function distance(monitor: Monitor, quotes: Map<string, Quote>): string {
  const last = num(quotes.get(monitor.instrument)?.last);
  if (!Number.isFinite(last)) return "—";
  const levels = [monitor.stopLoss, monitor.takeProfit].map(num).filter(Number.isFinite);
  if (!levels.length) return "trailing";
  const nearest = levels.reduce((a, b) => (Math.abs(b - last) < Math.abs(a - last) ? b : a));
  return `${((Math.abs(last - nearest) / last) * 100).toFixed(2)}%`;
}

export function Monitors(props: { model: Model }) {
  // Armed ones first, then the latest triggered ones.
  const all = [...props.model.monitors.values()].sort((a, b) => b.asOf - a.asOf);
  const monitors = [
    ...all.filter((m) => m.status === "ACTIVE"),
    ...all.filter((m) => m.status === "TRIGGERED").slice(0, 10),
  ];
  return (
    <Panel id="monitors" title="Monitors" loaded={props.model.loaded.monitors}>
      {!monitors.length ? <Empty>No armed monitors.</Empty> : (
        <table>
          <thead><tr><th>Instrument</th><th>Stop</th><th>Take</th><th class="hide-m">Trail</th><th>To trigger</th><th>Status</th></tr></thead>
          <tbody>{monitors.map((m) => (
            <tr key={m.id} data-id={m.id} class={m.status === "TRIGGERED" ? "triggered" : ""}>
              <td>{m.instrument}</td>
              <td class="num">{decimal(m.stopLoss)}</td><td class="num">{decimal(m.takeProfit)}</td>
              <td class="num hide-m">{decimal(m.trailingDistance)}</td>
              <td class="num">{m.status === "ACTIVE" ? distance(m, props.model.quotes) : decimal(m.triggerPrice)}</td>
              <td>{m.status === "TRIGGERED" ? <span class="badge alert" title={m.triggerReason ?? ""}>⚑<span class="hide-s"> TRIGGERED</span></span> : <span class="badge">{m.status}</span>}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </Panel>
  );
}

export function Lag(props: { model: Model }) {
  const status = props.model.status;
  return (
    <Panel id="lag" title="Projections" loaded={props.model.loaded.status}>
      {!status ? null : (
        <table>
          <thead><tr><th>Projection</th><th>At</th><th>Lag</th><th>State</th></tr></thead>
          <tbody>{status.projections.map((p) => (
            <tr key={p.name} class={p.stale || p.error ? "stale" : ""}>
              <td>{p.name}</td><td class="num">{p.sequence}</td><td class="num">{p.lag}</td>
              <td>{p.error ? <span class="badge alert" title={p.error}>FAILED</span> : p.stale ? <span class="badge alert">STALE</span> : <span class="badge ok">OK</span>}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </Panel>
  );
}

export function Market(props: { model: Model }) {
  const quotes = [...props.model.quotes.values()].sort((a, b) => a.instrument.localeCompare(b.instrument));
  return (
    <Panel id="market" title={`Quotes (${quotes.length})`} loaded={props.model.loaded.quotes}>
      {!quotes.length ? <Empty>No quotes yet.</Empty> : (
        <table>
          <thead><tr><th>Instrument</th><th>Bid</th><th>Ask</th><th>Last</th><th>Time</th></tr></thead>
          <tbody>{quotes.map((q) => (
            <tr key={q.instrument}>
              <td>{q.instrument}</td><td class="num">{decimal(q.bid)}</td><td class="num">{decimal(q.ask)}</td>
              <td class="num strong">{decimal(q.last)}</td><td class="num dim">{clock(q.timestamp)}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </Panel>
  );
}

export function Alerts(props: { model: Model }) {
  const runs = [...props.model.reconciliations.values()].sort((a, b) => b.asOf - a.asOf);
  const latest = runs[0];
  if (!latest || !latest.mismatches.length) return null;
  return (
    <div id="mismatches" class="alert-banner" role="alert">
      <strong>Broker mismatch{latest.mismatches.length > 1 ? "es" : ""}</strong>
      {latest.corrected ? " (auto-corrected)" : ""} at {clock(latest.startedAt)}:{" "}
      {latest.mismatches.map((m) => (
        <span class="mismatch" key={m.account + m.instrument}>
          {m.instrument} ({m.account}) ours {decimal(m.localQuantity)} vs broker {decimal(m.brokerQuantity)},{" "}
          <span class={`num ${tone(m.difference)}`}>{signed(m.difference)}</span>
        </span>
      ))}
    </div>
  );
}
