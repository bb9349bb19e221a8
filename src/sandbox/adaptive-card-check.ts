import { createRequire } from "node:module";

interface AdaptiveCardsModule {
  AdaptiveCard: new () => { parse(json: unknown, context: unknown): void; validateProperties(): { validationEvents: Array<{ message: string }> } };
  SerializationContext: new () => { eventCount: number; getEventAt(index: number): { message: string } };
}

const require = createRequire(import.meta.url);
// The adaptivecards package's own parser, which runs in Node from its UMD build.
const adaptiveCards = require("adaptivecards/dist/adaptivecards.js") as AdaptiveCardsModule;

/** Parses a card with the Adaptive Cards SDK and returns every parse and validation problem (none means valid). */
export function adaptiveCardProblems(card: unknown): string[] {
  if (typeof card !== "object" || card === null || (card as { type?: unknown }).type !== "AdaptiveCard") return ["content is not an AdaptiveCard"];
  const version = String((card as { version?: unknown }).version ?? "");
  const problems: string[] = [];
  // Teams renders Adaptive Cards up to 1.5.
  if (!/^1\.[0-5]$/.test(version)) problems.push(`version ${version || "(none)"} is not supported by Teams (1.0 to 1.5)`);
  const context = new adaptiveCards.SerializationContext();
  const parsed = new adaptiveCards.AdaptiveCard();
  parsed.parse(card, context);
  for (let i = 0; i < context.eventCount; i++) problems.push(context.getEventAt(i).message);
  for (const event of parsed.validateProperties().validationEvents) problems.push(event.message);
  return problems;
}
