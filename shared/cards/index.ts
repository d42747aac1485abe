export * from "./view";
export * from "./card-action";
export * from "./teams-card";
export * from "./slack-message";
