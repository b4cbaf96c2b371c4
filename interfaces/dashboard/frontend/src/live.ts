// The connection: one graphql-transport-ws socket (npm graphql-ws) carrying every
// subscription. When it drops, the page turns STALE and reconnects with backoff; each
// subscription resumes from the last sequence it saw (`after`), and rows already held
// are not applied twice (Model.upsert / addTrade).

import { type Client, createClient } from "graphql-ws";
import type { FrameBatcher } from "./frame";
import { query, savedToken, websocketUrl } from "./http";
import {
  type Account, type Kind, type Model, type Monitor, type Order, type PnlBar, type Position,
  type Quote, type Reconciliation, type Row, type Signal, type Status, type Trade, upsert,
} from "./model";
import * as Q from "./queries";

type Support = "after" | "plain" | null;
export interface Capabilities {
  updates: Record<Kind, Support>;
  statusFeed: boolean;
  accounts: boolean;
  pnlHistory: boolean;
}

const UPDATE_FIELD: Record<Kind, string> = {
  positions: "positionUpdates", orders: "orderUpdates", signals: "signalUpdates",
  monitors: "monitorUpdates", accounts: "accountUpdates",
};
const FIELDS: Record<Kind, string> = {
  positions: Q.POSITION, orders: Q.ORDER, signals: Q.SIGNAL, monitors: Q.MONITOR,
  accounts: Q.ACCOUNT,
};
const SNAPSHOT: Record<Kind, string> = {
  positions: `positions(minSequence: $m) { ${Q.POSITION} }`,
  orders: `submitted: orders(status: SUBMITTED, limit: 1000, minSequence: $m) { ${Q.ORDER} }
    partial: orders(status: PARTIALLY_FILLED, limit: 1000, minSequence: $m) { ${Q.ORDER} }`,
  signals: `signals(limit: 50, minSequence: $m) { ${Q.SIGNAL} }`,
  monitors: `monitors(minSequence: $m) { ${Q.MONITOR} }`,
  accounts: `accounts(minSequence: $m) { ${Q.ACCOUNT} }`,
};
const KINDS: Kind[] = ["positions", "orders", "signals", "monitors", "accounts"];
const WORKING = new Set(["SUBMITTED", "PARTIALLY_FILLED"]);
const STATUS_INTERVAL_MS = 1000;
const HEARTBEAT_MS = 5000;
const QUOTE_THROTTLE_MS = 250;
const PNL_WINDOW_MS = 6 * 3600_000;

export async function capabilities(): Promise<Capabilities> {
  type Field = { name: string; args?: { name: string }[] };
  const data = await query<{ subscription: { fields: Field[] }; query: { fields: Field[] } }>(
    Q.CAPABILITIES,
  );
  const subs = new Map(data.subscription.fields.map((f) => [f.name, f]));
  const queries = new Set(data.query.fields.map((f) => f.name));
  const support = (kind: Kind): Support => {
    const field = subs.get(UPDATE_FIELD[kind]);
    if (!field) return null;
    return field.args?.some((a) => a.name === "after") ? "after" : "plain";
  };
  const updates = Object.fromEntries(KINDS.map((k) => [k, support(k)])) as Record<Kind, Support>;
  if (!queries.has("accounts")) updates.accounts = null;
  return {
    updates,
    statusFeed: subs.has("systemStatus"),
    accounts: queries.has("accounts"),
    pnlHistory: queries.has("pnlHistory"),
  };
}

export class Live {
  private client: Client | null = null;
  private epoch = 0;
  private cursors: Record<string, number> = {};
  private heartbeat: number | undefined;
  private refetching = new Set<Kind>();
  private again = new Set<Kind>();
  selectedAccount: string | null = null;

  constructor(
    private readonly model: Model,
    private readonly frames: FrameBatcher,
    readonly caps: Capabilities,
  ) {
    for (const kind of KINDS) model.loaded[kind] = false;
    model.loaded.accounts = caps.accounts ? false : null;
    model.loaded.pnl = caps.pnlHistory ? false : null;
    for (const name of ["trades", "quotes", "reconciliations", "status"]) model.loaded[name] = false;
  }

  private snapshotOnly(kind: Kind): boolean {
    // Monitors before monitorUpdates existed: followed through the log's monitor events.
    return kind === "monitors";
  }

  async start(): Promise<void> {
    try {
      const head = await query<{ systemStatus: Status }>(Q.HEAD);
      this.applyStatus(head.systemStatus);
      const start = head.systemStatus.headSequence;
      for (const key of [...KINDS, "trades", "monitorEvents"]) this.cursors[key] = start;
      await this.snapshot(start);
    } catch (error) {
      this.model.connection.reason = `cannot load the first data (${String(error)})`;
      this.frames.changed();
      window.setTimeout(() => void this.start(), 2000);
      return;
    }
    this.connect();
  }

  private async snapshot(minSequence: number): Promise<void> {
    const parts = KINDS.filter((k) => this.model.loaded[k] !== null).map((k) => SNAPSHOT[k]);
    const document = `query Snapshot($m: Int) {
      ${parts.join("\n")}
      trades(limit: 50, minSequence: $m) { ${Q.TRADE} }
      quotes { ${Q.QUOTE} }
      reconciliations(limit: 5) { ${Q.RECONCILIATION} }
    }`;
    const data = await query<Record<string, unknown[]>>(document, { m: minSequence });
    this.applySnapshot(data);
    for (const trade of data.trades as Trade[]) this.model.addTrade(trade);
    for (const quote of data.quotes as Quote[]) this.model.quotes.set(quote.instrument, quote);
    for (const run of data.reconciliations as Reconciliation[]) upsert(this.model.reconciliations, run);
    for (const name of ["trades", "quotes", "reconciliations"]) this.model.loaded[name] = true;
    await this.loadPnl();
    this.frames.changed();
  }

  private applySnapshot(data: Record<string, unknown[]>): void {
    const m = this.model;
    if (data.positions) for (const row of data.positions as Position[]) upsert(m.positions, row);
    if (data.submitted) {
      for (const row of [...(data.submitted as Order[]), ...(data.partial as Order[])]) this.applyOrder(row);
    }
    if (data.signals) for (const row of data.signals as Signal[]) upsert(m.signals, row);
    if (data.monitors) for (const row of data.monitors as Monitor[]) upsert(m.monitors, row);
    if (data.accounts) for (const row of data.accounts as Account[]) upsert(m.accounts, row);
    for (const kind of KINDS) if (data[kind] || (kind === "orders" && data.submitted)) m.loaded[kind] = true;
    if (this.selectedAccount === null && m.accounts.size) {
      this.selectedAccount = m.accounts.has("default") ? "default" : [...m.accounts.keys()][0];
    }
  }

  async loadPnl(): Promise<void> {
    if (!this.caps.pnlHistory || this.selectedAccount === null) {
      if (this.caps.pnlHistory && this.model.loaded.accounts) this.model.loaded.pnl = true;
      return;
    }
    const now = Date.now();
    const data = await query<{ pnlHistory: PnlBar[] }>(
      `query Pnl($a: String!, $f: DateTime!, $t: DateTime!) {
        pnlHistory(account: $a, from: $f, to: $t, interval: ONE_MINUTE, limit: 1000) {
          account currency start open high low close asOf } }`,
      { a: this.selectedAccount, f: new Date(now - PNL_WINDOW_MS).toISOString(), t: new Date(now + 60_000).toISOString() },
    );
    // one currency on the chart: the account's first (bars come per currency)
    const currency = this.model.accounts.get(this.selectedAccount)?.totals[0]?.currency
      ?? data.pnlHistory[0]?.currency ?? null;
    this.model.pnl = data.pnlHistory.filter((bar) => bar.currency === currency);
    this.model.loaded.pnl = true;
    this.frames.changed();
  }

  private connect(): void {
    const epoch = ++this.epoch;
    const conn = this.model.connection;
    const token = savedToken();
    const client = createClient({
      url: websocketUrl(),
      lazy: false,
      retryAttempts: 0,
      keepAlive: 10_000,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      on: {
        connected: () => {
          if (epoch !== this.epoch) return;
          conn.connected = true;
          conn.everConnected = true;
          conn.attempt = 0;
          conn.retryAt = null;
          conn.reason = null;
          conn.lastStatusAt = Date.now();
          this.subscribeAll(client, epoch, conn.attempt);
          this.frames.changed();
        },
        closed: (event) => {
          if (epoch !== this.epoch) return;
          const code = (event as CloseEvent | undefined)?.code;
          this.reconnect(code ? `connection closed (${code})` : "connection lost");
        },
      },
      onNonLazyError: () => undefined,
    });
    this.client = client;
  }

  private reconnect(reason: string): void {
    const conn = this.model.connection;
    window.clearInterval(this.heartbeat);
    const old = this.client;
    this.client = null;
    this.epoch++;
    old?.terminate();
    conn.connected = false;
    conn.reason = reason;
    const delay = Math.min(8000, 500 * 2 ** conn.attempt) * (0.8 + Math.random() * 0.4);
    conn.attempt++;
    conn.retryAt = Date.now() + delay;
    this.frames.changed();
    window.setTimeout(() => this.connect(), delay);
  }

  private subscribeAll(client: Client, epoch: number, _attempt: number): void {
    const resumed = this.model.connection.everConnected && this.model.messages > 0;
    for (const kind of KINDS) {
      const support = this.caps.updates[kind];
      if (support === "after") this.follow(client, epoch, kind, true);
      else if (support === "plain") {
        // No `after`: subscribe, then read the rows again, so a change made between the
        // snapshot (or the drop) and this subscription is not lost; asOf drops repeats.
        this.follow(client, epoch, kind, false);
        this.refetch(kind);
      } else if (this.snapshotOnly(kind)) this.followMonitorEvents(client, epoch);
    }
    this.followTrades(client, epoch);
    this.sub(client, epoch, `subscription { quotes(throttleMs: ${QUOTE_THROTTLE_MS}) { ${Q.QUOTE} } }`, {},
      (data: { quotes: Quote }) => {
        this.model.quotes.set(data.quotes.instrument, data.quotes);
      });
    this.sub(client, epoch, `subscription { reconciliations { ${Q.RECONCILIATION} } }`, {},
      (data: { reconciliations: Reconciliation }) => upsert(this.model.reconciliations, data.reconciliations));
    if (this.caps.statusFeed) {
      this.sub(client, epoch, `subscription { systemStatus(intervalMs: ${STATUS_INTERVAL_MS}) { ${Q.STATUS} } }`, {},
        (data: { systemStatus: Status }) => this.applyStatus(data.systemStatus));
      this.heartbeat = window.setInterval(() => {
        if (epoch !== this.epoch) return;
        if (Date.now() - this.model.connection.lastStatusAt > HEARTBEAT_MS) this.reconnect("server stopped answering");
      }, 1000);
    }
    void query<{ reconciliations: Reconciliation[] }>(`{ reconciliations(limit: 5) { ${Q.RECONCILIATION} } }`)
        .then((d) => { for (const r of d.reconciliations) upsert(this.model.reconciliations, r); this.frames.changed(); })
        .catch(() => undefined);
    if (resumed) void this.loadPnl().catch(() => undefined);
  }

  private sub<T>(client: Client, epoch: number, document: string, variables: Record<string, unknown>,
    onData: (data: T) => unknown, onError?: () => void): void {
    client.subscribe<T>({ query: document, variables }, {
      next: (result) => {
        if (epoch !== this.epoch || !result.data) return;
        this.model.messages++;
        onData(result.data as T);
        this.frames.changed();
      },
      error: () => {
        // A subscription refused alone (e.g. a buffer overflow) resumes by itself;
        // a dropped socket is handled by `closed`.
        if (epoch === this.epoch && this.model.connection.connected && onError) {
          window.setTimeout(() => epoch === this.epoch && onError(), 1000);
        }
      },
      complete: () => undefined,
    });
  }

  private follow(client: Client, epoch: number, kind: Kind, resumable: boolean): void {
    const field = UPDATE_FIELD[kind];
    const document = resumable
      ? `subscription ($after: Int) { ${field}(after: $after) { ${FIELDS[kind]} } }`
      : `subscription { ${field} { ${FIELDS[kind]} } }`;
    const variables = resumable ? { after: this.cursors[kind] } : {};
    this.sub(client, epoch, document, variables, (data: Record<string, Row>) => {
      const row = data[field];
      this.cursors[kind] = Math.max(this.cursors[kind], row.asOf);
      this.apply(kind, row);
    }, () => this.follow(client, epoch, kind, resumable));
  }

  private apply(kind: Kind, row: Row): void {
    const m = this.model;
    let fresh = true;
    if (kind === "orders") fresh = this.applyOrder(row as Order);
    else if (kind === "positions") fresh = upsert(m.positions, row as Position);
    else if (kind === "signals") {
      fresh = upsert(m.signals, row as Signal);
      if (m.signals.size > 80) {
        const newest = [...m.signals.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
        for (const gone of newest.slice(50)) m.signals.delete(gone.id);
      }
    } else if (kind === "monitors") fresh = upsert(m.monitors, row as Monitor);
    else if (kind === "accounts") {
      fresh = upsert(m.accounts, row as Account);
      if (fresh) this.extendPnl(row as Account);
    }
    if (!fresh) m.duplicatesDropped++;
  }

  private applyOrder(order: Order): boolean {
    const orders = this.model.orders;
    const held = orders.get(order.id);
    if (held && held.asOf >= order.asOf) return false;
    if (WORKING.has(order.status)) orders.set(order.id, order);
    else orders.delete(order.id);
    return true;
  }

  private extendPnl(account: Account): void {
    if (account.id !== this.selectedAccount || !account.totals.length) return;
    const totals = account.totals[0];
    const bars = this.model.pnl;
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const start = new Date(minute).toISOString();
    const last = bars[bars.length - 1];
    const value = totals.totalPnl;
    if (last && Date.parse(last.start) === minute) {
      const n = Number(value);
      bars[bars.length - 1] = {
        ...last,
        high: n > Number(last.high) ? value : last.high,
        low: n < Number(last.low) ? value : last.low,
        close: value,
        asOf: account.asOf,
      };
    } else {
      const open = last ? last.close : value;
      bars.push({ account: account.id, currency: totals.currency, start, open,
        high: String(Math.max(Number(open), Number(value))), low: String(Math.min(Number(open), Number(value))),
        close: value, asOf: account.asOf });
      if (bars.length > 1000) bars.shift();
    }
  }

  private followTrades(client: Client, epoch: number): void {
    const document = `subscription ($after: Int, $types: [String!]) {
      events(after: $after, types: $types) { sequence data } }`;
    this.sub(client, epoch, document, { after: this.cursors.trades, types: Q.FILL_EVENTS },
      (data: { events: { sequence: number; data: Record<string, string> } }) => {
        const { sequence, data: d } = data.events;
        this.cursors.trades = Math.max(this.cursors.trades, sequence);
        const fresh = this.model.addTrade({
          fillId: d.fillId, orderId: d.orderId, account: d.account, instrument: d.instrument,
          side: d.side, quantity: d.quantity, price: d.price, commission: d.commission,
          realizedPnl: d.realizedPnl, timestamp: d.fillTimestamp ?? d.timestamp, sequence,
        });
        if (!fresh) this.model.duplicatesDropped++;
      }, () => this.followTrades(client, epoch));
  }

  private followMonitorEvents(client: Client, epoch: number): void {
    const document = `subscription ($after: Int, $types: [String!]) {
      events(after: $after, types: $types) { sequence } }`;
    this.sub(client, epoch, document, { after: this.cursors.monitorEvents, types: Q.MONITOR_EVENTS },
      (data: { events: { sequence: number } }) => {
        this.cursors.monitorEvents = Math.max(this.cursors.monitorEvents, data.events.sequence);
        this.refetch("monitors");
      }, () => this.followMonitorEvents(client, epoch));
    if (this.model.connection.everConnected && this.model.messages > 0) this.refetch("monitors");
  }

  /** Read a panel's rows again (after its change was announced, or after a resume). */
  private refetch(kind: Kind): void {
    if (this.refetching.has(kind)) {
      this.again.add(kind); // announced while a read was in flight: read once more after it
      return;
    }
    this.refetching.add(kind);
    void this.reread(kind)
      .catch(() => undefined)
      .finally(() => {
        this.refetching.delete(kind);
        if (this.again.delete(kind)) this.refetch(kind);
      });
  }

  private async reread(kind: Kind): Promise<void> {
    // Read at least up to the head now, so a working order missing from the answer and
    // not changed since is known to be working no longer.
    const head = kind === "monitors"
      ? this.cursors.monitorEvents
      : (await query<{ systemStatus: Status }>(Q.HEAD)).systemStatus.headSequence;
    const data = await query<Record<string, unknown[]>>(`query Refetch($m: Int) { ${SNAPSHOT[kind]} }`, { m: head });
    this.applySnapshot(data);
    if (kind === "orders") {
      const present = new Set([...(data.submitted as Order[]), ...(data.partial as Order[])].map((o) => o.id));
      for (const [id, order] of this.model.orders) {
        if (!present.has(id) && order.asOf <= head) this.model.orders.delete(id);
      }
    }
    this.frames.changed();
  }

  applyStatus(status: Status): void {
    this.model.status = status;
    this.model.loaded.status = true;
    this.model.connection.lastStatusAt = Date.now();
  }
}
