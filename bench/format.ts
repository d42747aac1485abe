// Number and Markdown formatting for the report.
import type { Summary } from "./stats";

export interface Table {
  headers: string[];
  rows: string[][];
}

export function markdownTable({ headers, rows }: Table): string {
  const line = (cells: string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Milliseconds: 0.1 ms resolution below 10 ms, whole ms above. */
export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value).toLocaleString("en-US")} ms`;
}

/** Seconds with one decimal. */
export function seconds(valueMs: number): string {
  return `${(valueMs / 1000).toFixed(1)} s`;
}

/** Microseconds: 0.01 µs resolution below 10 µs, 0.1 below 1000, whole above. */
export function us(value: number): string {
  const digits = value < 10 ? 2 : value < 1000 ? 1 : 0;
  return `${value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })} µs`;
}

export function bytes(value: number): string {
  const exact = `${value.toLocaleString("en-US")} B`;
  if (value < 1024) return exact;
  const scaled = value < 1024 * 1024 ? `${(value / 1024).toFixed(1)} KiB` : `${(value / 1024 / 1024).toFixed(2)} MiB`;
  return `${exact} (${scaled})`;
}

export function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** The n / median / p95 / max cells of a row, formatted by `unit`. */
export function summaryCells(summary: Summary, unit: (value: number) => string): string[] {
  return [String(summary.n), unit(summary.median), unit(summary.p95), unit(summary.max)];
}

export const SUMMARY_HEADERS = ["n", "median", "p95", "max"];

/** Items per second, one decimal. */
export function rate(items: number, durationMs: number): string {
  return (items / (durationMs / 1000)).toFixed(1);
}
