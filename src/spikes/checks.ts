import { DEFAULT_DETECTION, detectSpikes, type DetectionOptions, type FailureBucket, type Spike } from "./detect.js";
import { DEFAULT_HORIZON, detectCampaigns, detectSlowRamps, type HorizonOptions } from "./horizon.js";

export type CheckOptions = DetectionOptions & HorizonOptions;

export const DEFAULT_CHECKS = { ...DEFAULT_DETECTION, ...DEFAULT_HORIZON } as const;

/**
 * Every check amlguard runs on one window: the window against its same hour (principals, sprays), and the longer
 * horizon (slow ramps, persistent newcomers, campaigns across principals). A principal already flagged by the hourly
 * check is not flagged again as a ramp or newcomer in the same window: one alert says it.
 */
export function detectAll(rows: readonly FailureBucket[], options: CheckOptions, only: "all" | "hourly" = "all"): Spike[] {
  const hourly = detectSpikes(rows, options);
  if (only === "hourly") return hourly;
  const seen = new Set(hourly.map((s) => [s.kind === "spray" ? "spray" : "principal", s.source, s.target, s.principal].join("\u0000")));
  const longer = detectSlowRamps(rows, options).filter((s) => !seen.has(["principal", s.source, s.target, s.principal].join("\u0000")));
  return [...hourly, ...longer, ...detectCampaigns(rows, options)].sort((a, b) => b.score - a.score);
}
