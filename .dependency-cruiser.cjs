// The layers of shared/ point one way (docs/architecture.md): a module may import from its own layer and the
// layers below it, never from one above. The composition root (shared/runtime.ts) and functions/ sit on top.
const LAYERS = [
  ["domain", "^shared/(domain/|config\\.ts$|lazy-credential\\.ts$)"],
  ["cards, storage", "^shared/(cards|storage)/|^shared/(http|pages)\\.ts$"],
  ["platform clients", "^shared/(teams|slack|discord)/|^shared/context\\.ts$"],
  ["identity", "^shared/identity/"],
  ["delivery", "^shared/delivery/"],
  ["workflows", "^shared/workflows/"],
  ["inbound", "^shared/inbound/"],
];
const ABOVE_ALL = "^shared/runtime\\.ts$|^functions/";

module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      severity: "error",
      comment: "A cycle makes two modules one: split or invert it.",
      from: { path: "^shared/" },
      to: { circular: true },
    },
    ...LAYERS.map(([name, path], i) => ({
      name: `layers: ${name}`,
      severity: "error",
      comment: `${name} imports only from its own layer and the ones below it.`,
      from: { path },
      to: { path: [...LAYERS.slice(i + 1).map(([, above]) => above), ABOVE_ALL].join("|") },
    })),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
  },
};
