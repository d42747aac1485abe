// Message components checked as Discord checks them when a message is posted or edited (Components reference:
// action rows, buttons, string and user selects), and refused as Discord refuses them: 400 Invalid Form Body (50035)
// with the offending field's errors nested under its path ("components.0.components.1.custom_id").

/** Discord's limits on components (https://discord.com/developers/docs/components/reference). */
export const COMPONENT_LIMITS = {
  actionRows: 5,
  perRow: 5,
  customId: 100,
  buttonLabel: 80,
  placeholder: 150,
  selectOptions: 25,
  optionText: 100,
  selectValues: 25,
} as const;

const SELECTS = new Set([3, 5, 6, 7, 8]);
/** The kind of default value each auto-populated select takes: 5 user, 6 role, 7 user or role, 8 channel. */
const DEFAULT_VALUE_TYPES: Record<number, string[]> = { 5: ["user"], 6: ["role"], 7: ["user", "role"], 8: ["channel"] };

interface FieldError {
  code: string;
  message: string;
}

type Problem = { path: (string | number)[]; error: FieldError };

/** Discord's 50035 errors object for `components`, or undefined when Discord would take them. */
export function componentErrors(components: unknown): Record<string, unknown> | undefined {
  const problems: Problem[] = [];
  const problem = (path: (string | number)[], code: string, message: string) =>
    problems.push({ path: ["components", ...path], error: { code, message } });
  if (!Array.isArray(components)) {
    problem([], "BASE_TYPE_ARRAY", "Must be an array.");
    return nest(problems);
  }
  if (components.length > COMPONENT_LIMITS.actionRows)
    problem([], "BASE_TYPE_BAD_LENGTH", `Must be between 0 and ${COMPONENT_LIMITS.actionRows} in length.`);
  const customIds = new Set<string>();
  components.forEach((row: unknown, r) => {
    const { type, components: children } = (row ?? {}) as { type?: unknown; components?: unknown };
    if (type !== 1) return problem([r, "type"], "COMPONENT_TYPE_INVALID", "Top-level components must be action rows.");
    if (!Array.isArray(children) || children.length < 1 || children.length > COMPONENT_LIMITS.perRow) {
      return problem([r, "components"], "BASE_TYPE_BAD_LENGTH", `Must be between 1 and ${COMPONENT_LIMITS.perRow} in length.`);
    }
    if (children.length > 1 && children.some((child) => SELECTS.has((child as { type?: number } | null)?.type ?? 0))) {
      problem([r, "components"], "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width");
    }
    children.forEach((child: unknown, c) => {
      const at = (field: string | number, code: string, message: string) => problem([r, "components", c, field], code, message);
      const component = (child ?? {}) as Record<string, unknown>;
      const customId = component.custom_id;
      const link = component.type === 2 && component.style === 5;
      if (!link) {
        if (typeof customId !== "string" || customId.length < 1 || customId.length > COMPONENT_LIMITS.customId) {
          at("custom_id", "BASE_TYPE_BAD_LENGTH", `Must be between 1 and ${COMPONENT_LIMITS.customId} in length.`);
        } else if (customIds.has(customId)) {
          at("custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated");
        } else {
          customIds.add(customId);
        }
      }
      if (component.type === 2) return checkButton(component, link, at);
      if (!SELECTS.has(component.type as number)) return at("type", "COMPONENT_TYPE_INVALID", "Value must be one of {2, 3, 5, 6, 7, 8}.");
      checkSelect(component, at);
    });
  });
  return nest(problems);
}

type At = (field: string | number, code: string, message: string) => void;

function checkButton(button: Record<string, unknown>, link: boolean, at: At): void {
  if (![1, 2, 3, 4, 5].includes(button.style as number)) at("style", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5}.");
  if (typeof button.label === "string" && button.label.length > COMPONENT_LIMITS.buttonLabel) {
    at("label", "BASE_TYPE_MAX_LENGTH", `Must be ${COMPONENT_LIMITS.buttonLabel} or fewer in length.`);
  }
  if (link && typeof button.url !== "string") at("url", "BASE_TYPE_REQUIRED", "This field is required");
  if (link && button.custom_id !== undefined) at("custom_id", "BUTTON_COMPONENT_LINK_HAS_CUSTOM_ID", "A link button cannot have a custom id");
}

function checkSelect(select: Record<string, unknown>, at: At): void {
  const minValues = select.min_values === undefined ? 1 : select.min_values;
  const maxValues = select.max_values === undefined ? 1 : select.max_values;
  if (typeof select.placeholder === "string" && select.placeholder.length > COMPONENT_LIMITS.placeholder) {
    at("placeholder", "BASE_TYPE_MAX_LENGTH", `Must be ${COMPONENT_LIMITS.placeholder} or fewer in length.`);
  }
  if (!Number.isInteger(minValues) || (minValues as number) < 0 || (minValues as number) > COMPONENT_LIMITS.selectValues) {
    at("min_values", "NUMBER_TYPE_MAX", `int value should be between 0 and ${COMPONENT_LIMITS.selectValues}.`);
  }
  if (!Number.isInteger(maxValues) || (maxValues as number) < 1 || (maxValues as number) > COMPONENT_LIMITS.selectValues) {
    at("max_values", "NUMBER_TYPE_MAX", `int value should be between 1 and ${COMPONENT_LIMITS.selectValues}.`);
  }
  if (select.type === 3) {
    const options = select.options;
    if (!Array.isArray(options) || options.length < 1 || options.length > COMPONENT_LIMITS.selectOptions) {
      return at("options", "BASE_TYPE_BAD_LENGTH", `Must be between 1 and ${COMPONENT_LIMITS.selectOptions} in length.`);
    }
    options.forEach((option: unknown, o) => {
      const { label, value } = (option ?? {}) as { label?: unknown; value?: unknown };
      for (const [name, text] of [
        ["label", label],
        ["value", value],
      ] as const) {
        if (typeof text !== "string" || text.length < 1 || text.length > COMPONENT_LIMITS.optionText) {
          at(`options.${o}.${name}`, "BASE_TYPE_BAD_LENGTH", `Must be between 1 and ${COMPONENT_LIMITS.optionText} in length.`);
        }
      }
    });
    return;
  }
  if (select.options !== undefined) at("options", "COMPONENT_INVALID_FIELD", "This field is not allowed for this component type");
  const defaults = select.default_values;
  if (defaults === undefined) return;
  if (!Array.isArray(defaults) || defaults.length < (minValues as number) || defaults.length > (maxValues as number)) {
    return at("default_values", "BASE_TYPE_BAD_LENGTH", `Must be between ${String(minValues)} and ${String(maxValues)} in length.`);
  }
  const kinds = DEFAULT_VALUE_TYPES[select.type as number] ?? [];
  defaults.forEach((value: unknown, d) => {
    const { id, type } = (value ?? {}) as { id?: unknown; type?: unknown };
    if (typeof id !== "string" || !/^\d{17,20}$/.test(id))
      at(`default_values.${d}.id`, "NUMBER_TYPE_COERCE", `Value "${String(id)}" is not snowflake.`);
    if (!kinds.includes(type as string)) at(`default_values.${d}.type`, "BASE_TYPE_CHOICES", `Value must be one of {${kinds.join(", ")}}.`);
  });
}

/** The problems as Discord nests them: `{ components: { 0: { components: { 1: { custom_id: { _errors: [...] } } } } } }`. */
function nest(problems: Problem[]): Record<string, unknown> | undefined {
  if (problems.length === 0) return undefined;
  const root: Record<string, unknown> = {};
  for (const { path, error } of problems) {
    let node = root;
    for (const key of path.flatMap((part) => String(part).split("."))) node = (node[key] ??= {}) as Record<string, unknown>;
    ((node._errors ??= []) as FieldError[]).push(error);
  }
  return root;
}

/** The component with `customId` in a message's action rows. */
export function findComponent(components: unknown[], customId: string): Record<string, unknown> | undefined {
  for (const row of components as { components?: Record<string, unknown>[] }[]) {
    const found = row?.components?.find((component) => component.custom_id === customId);
    if (found) return found;
  }
  return undefined;
}
