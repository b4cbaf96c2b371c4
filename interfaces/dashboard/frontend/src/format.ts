// Numbers as the trader reads them: decimals arrive as strings and are shown as sent
// (grouped), signed values carry an explicit sign as well as a colour class.

export type Tone = "pos" | "neg" | "zero";

export function tone(value: string | number | null | undefined): Tone {
  const n = typeof value === "number" ? value : Number(value ?? 0);
  if (!Number.isFinite(n) || n === 0) return "zero";
  return n > 0 ? "pos" : "neg";
}

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Trailing zeros off, but at least `min` decimals; at most `max` (display only). */
function trim(text: string, min = 2, max = 6): string {
  const [whole, frac = ""] = text.split(".");
  let digits = frac.length > max ? Number("0." + frac).toFixed(max).slice(2) : frac;
  digits = digits.replace(/0+$/, "");
  if (digits.length < min) digits = digits.padEnd(min, "0");
  return digits ? `${whole}.${digits}` : whole;
}

/** A decimal string with thousands separators: the server's digits, at most six decimals. */
export function decimal(value: string | number | null | undefined, places?: number): string {
  if (value === null || value === undefined || value === "") return "—";
  let text = typeof value === "number" ? value.toFixed(places ?? 2) : trim(value);
  if (places !== undefined && typeof value === "string") {
    const n = Number(value);
    if (Number.isFinite(n)) text = n.toFixed(places);
  }
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const [whole, frac] = body.split(".");
  return `${negative ? "-" : ""}${group(whole)}${frac !== undefined ? "." + frac : ""}`;
}

/** "+1,234.50", "−12.00" (a true minus sign), "0.00": the sign never depends on colour. */
export function signed(value: string | number | null | undefined, places?: number): string {
  if (value === null || value === undefined || value === "") return "—";
  const text = decimal(value, places);
  const t = tone(value);
  if (t === "pos") return "+" + text;
  if (t === "neg") return "\u2212" + text.replace(/^-/, "");
  return text.replace(/^-/, "");
}

export function age(fromIso: string | null | undefined, now: number): string {
  if (!fromIso) return "—";
  const seconds = Math.max(0, Math.round((now - Date.parse(fromIso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86400)}d`;
}

export function until(toIso: string | null | undefined, now: number): string {
  if (!toIso) return "—";
  const ms = Date.parse(toIso) - now;
  if (ms <= 0) return "expired";
  return age(new Date(now - ms).toISOString(), now);
}

export function clock(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toISOString().slice(11, 19);
}
