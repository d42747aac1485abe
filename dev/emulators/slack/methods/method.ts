import type { Params } from "../params";
import type { RateRule } from "../rate-limits";
import type { EmulatorState } from "../state";
import type { Workspace } from "../world";

export interface MethodContext {
  state: EmulatorState;
  workspace: Workspace;
  scopes: string[];
}

export interface MethodDef {
  /** The call needs at least one of these scopes, else `missing_scope`. */
  scopes?: string[];
  rate: RateRule;
  handle(ctx: MethodContext, params: Params): Record<string, unknown>;
}
