// What the page holds: the latest row per id, merged by asOf so a row delivered twice
// (a snapshot and a resumed subscription overlapping) is applied once.

export interface Row {
  id: string;
  asOf: number;
  [field: string]: unknown;
}
export interface Position extends Row {
  account: string; instrument: string; quantity: string; averagePrice: string | null;
  realizedPnl: string; marketPrice: string | null; unrealizedPnl: string | null;
  status: string; openedAt: string | null; updatedAt: string;
}
export interface Order extends Row {
  clientOrderId: string; account: string; instrument: string; side: string; type: string;
  quantity: string; limitPrice: string | null; status: string; filledQuantity: string;
  averageFillPrice: string | null; updatedAt: string;
}
export interface Signal extends Row {
  strategy: string; instrument: string; side: string; strength: string; quantity: string | null;
  status: string; reason: string | null; createdAt: string; expiresAt: string | null;
}
export interface Monitor extends Row {
  account: string; instrument: string; stopLoss: string | null; takeProfit: string | null;
  trailingDistance: string | null; status: string; triggerReason: string | null;
  triggerPrice: string | null; updatedAt: string;
}
export interface Trade {
  fillId: string; orderId: string; account: string; instrument: string; side: string;
  quantity: string; price: string; commission: string; realizedPnl: string; timestamp: string;
  sequence: number;
}
export interface Quote {
  instrument: string; last: string; bid: string | null; ask: string | null; timestamp: string;
  asOf: number;
}
export interface Mismatch {
  account: string; instrument: string; localQuantity: string; brokerQuantity: string;
  difference: string;
}
export interface Reconciliation extends Row {
  policy: string; startedAt: string; completedAt: string | null; corrected: boolean;
  mismatches: Mismatch[];
}
export interface Totals {
  currency: string | null; realizedPnl: string; unrealizedPnl: string; totalPnl: string;
  commissionPaid: string; todayPnl: string; grossExposure: string; netExposure: string;
  openPositions: number; asOf: number;
}
export interface Account extends Row { totals: Totals[] }
export interface PnlBar {
  account: string; currency: string | null; start: string; open: string; high: string;
  low: string; close: string; asOf: number;
}
export interface ProjectionStatus {
  name: string; sequence: number; lag: number; stale: boolean; error: string | null;
}
export interface Status { version: string; headSequence: number; projections: ProjectionStatus[] }

export type Kind = "positions" | "orders" | "signals" | "monitors" | "accounts";

/** Insert or replace by id unless what is held is as new or newer. True if it changed. */
export function upsert<T extends Row>(rows: Map<string, T>, row: T): boolean {
  const held = rows.get(row.id);
  if (held && held.asOf >= row.asOf) return false;
  rows.set(row.id, row);
  return true;
}

export interface Connection {
  connected: boolean;
  everConnected: boolean;
  attempt: number;
  retryAt: number | null;
  lastStatusAt: number;
  reason: string | null;
}

export class Model {
  positions = new Map<string, Position>();
  orders = new Map<string, Order>();
  signals = new Map<string, Signal>();
  monitors = new Map<string, Monitor>();
  accounts = new Map<string, Account>();
  reconciliations = new Map<string, Reconciliation>();
  quotes = new Map<string, Quote>();
  trades: Trade[] = [];
  tradeIds = new Set<string>();
  pnl: PnlBar[] = [];
  status: Status | null = null;
  /** Which panels have had their first data; null = the server does not serve it. */
  loaded: Record<string, boolean | null> = {};
  connection: Connection = {
    connected: false, everConnected: false, attempt: 0, retryAt: null, lastStatusAt: 0,
    reason: null,
  };
  /** Rows refused because they were already held (resumes overlapping): for tests. */
  duplicatesDropped = 0;
  messages = 0;

  addTrade(trade: Trade): boolean {
    if (this.tradeIds.has(trade.fillId)) {
      this.duplicatesDropped++;
      return false;
    }
    this.tradeIds.add(trade.fillId);
    this.trades.push(trade);
    this.trades.sort((a, b) => b.sequence - a.sequence);
    if (this.trades.length > 200) {
      for (const gone of this.trades.splice(200)) this.tradeIds.delete(gone.fillId);
    }
    return true;
  }
}
