// The P&L chart: pnlHistory's bars, then extended live from accountUpdates.

import { CandlestickSeries, createChart, type IChartApi, type ISeriesApi, type UTCTimestamp } from "lightweight-charts";
import { useEffect, useRef } from "preact/hooks";
import type { PnlBar } from "./model";

export function PnlChart(props: { bars: PnlBar[]; version: number }) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const drawn = useRef<{ count: number; first: string | null }>({ count: 0, first: null });

  useEffect(() => {
    if (!host.current) return;
    const c = createChart(host.current, {
      autoSize: true,
      layout: { background: { color: "transparent" }, textColor: "#9aa7b4", fontSize: 11 },
      grid: { vertLines: { color: "#1e2a36" }, horzLines: { color: "#1e2a36" } },
      rightPriceScale: { borderColor: "#2a3745" },
      timeScale: {
        borderColor: "#2a3745", timeVisible: true, secondsVisible: false, barSpacing: 9,
        rightOffset: 4,
      },
    });
    series.current = c.addSeries(CandlestickSeries, {
      upColor: "#2fbf71", downColor: "#ef5350", wickUpColor: "#2fbf71", wickDownColor: "#ef5350",
      borderVisible: false,
    });
    chart.current = c;
    return () => c.remove();
  }, []);

  useEffect(() => {
    const s = series.current;
    if (!s) return;
    const bars = props.bars;
    const point = (b: PnlBar) => ({
      time: Math.floor(Date.parse(b.start) / 1000) as UTCTimestamp,
      open: Number(b.open), high: Number(b.high), low: Number(b.low), close: Number(b.close),
    });
    const first = bars.length ? bars[0].start : null;
    if (first !== drawn.current.first || bars.length < drawn.current.count || bars.length - drawn.current.count > 1) {
      s.setData(bars.map(point));
      chart.current?.timeScale().scrollToRealTime();
    } else if (bars.length) {
      s.update(point(bars[bars.length - 1]));
    }
    drawn.current = { count: bars.length, first };
  }, [props.version]);

  return <div class="chart" ref={host} />;
}
