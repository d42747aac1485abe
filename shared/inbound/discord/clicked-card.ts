import { mayHaveBeenApplied } from "../../discord/interaction-webhook";
import type { DiscordResult } from "../../discord/rest";

/**
 * What the clicked message shows once the click's answer is out, for its copy's row in `cards`: the card at
 * `version`; perhaps a card, perhaps not (an edit that failed may still have been carried out); or nothing new (no
 * card in the answer, or an edit Discord can't have carried out).
 */
export type ClickedCopy = { kind: "shows"; version: number } | { kind: "unknown" } | { kind: "untouched" };

/**
 * The clicked copy after the edit of `@original` that carried the card drawn at `drawnVersion` (its last try's).
 * `refreshWentAhead`: the card refresh the click announced began while the edit was still being tried; then an edit
 * that didn't end landing may have landed an earlier try after the refresh's edit, whatever its last try's failure says.
 */
export function clickedCopyAfterEdit(result: DiscordResult<unknown>, drawnVersion: number, { refreshWentAhead = false } = {}): ClickedCopy {
  if (result.kind === "ok") return { kind: "shows", version: drawnVersion };
  return refreshWentAhead || mayHaveBeenApplied(result) ? { kind: "unknown" } : { kind: "untouched" };
}
