export * from "./issue";
export * from "./actions";
export * from "./alert";
export * from "./intake";
export * from "./tags";
export * from "./releases";
