// Every GraphQL document the dashboard sends. It talks to /graphql only.

export const POSITION = `id account instrument quantity averagePrice realizedPnl marketPrice
  unrealizedPnl status openedAt updatedAt asOf`;
export const ORDER = `id clientOrderId account instrument side type quantity limitPrice status
  filledQuantity averageFillPrice updatedAt asOf`;
export const SIGNAL = `id strategy instrument side strength quantity status reason createdAt
  expiresAt asOf`;
export const MONITOR = `id account instrument stopLoss takeProfit trailingDistance status
  triggerReason triggerPrice updatedAt asOf`;
export const TRADE = `fillId orderId account instrument side quantity price commission
  realizedPnl timestamp sequence`;
export const QUOTE = `instrument last bid ask timestamp asOf`;
export const RECONCILIATION = `id policy startedAt completedAt corrected asOf
  mismatches { account instrument localQuantity brokerQuantity difference }`;
export const STATUS = `version headSequence projections { name sequence lag stale error }`;
export const TOTALS = `currency realizedPnl unrealizedPnl totalPnl commissionPaid todayPnl
  grossExposure netExposure openPositions asOf`;
export const ACCOUNT = `id asOf totals { ${TOTALS} }`;

export const PROBE = `query Probe { systemStatus { version } }`;

export const CAPABILITIES = `query Capabilities {
  subscription: __type(name: "Subscription") { fields { name args { name } } }
  query: __type(name: "Query") { fields { name } }
}`;

export const HEAD = `query Head { systemStatus { ${STATUS} } }`;

export const FILL_EVENTS = ["FillRecorded"];
export const MONITOR_EVENTS = ["MonitorArmed", "MonitorDisarmed", "MonitorTriggered",
  "MonitorWaterMarkMoved"];
