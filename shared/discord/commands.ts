import { ApplicationCommandOptionType, ApplicationCommandType, type RESTPutAPIApplicationCommandsJSONBody } from "discord-api-types/v10";

/** The `/triage` command and its subcommands, as `npm run discord:commands` registers them (PUT: idempotent). */
export const TRIAGE_COMMANDS: RESTPutAPIApplicationCommandsJSONBody = [
  {
    name: "triage",
    type: ApplicationCommandType.ChatInput,
    description: "Alert cards: subscriptions and your linked account",
    options: [
      { type: ApplicationCommandOptionType.Subcommand, name: "help", description: "What Triage Relay does here" },
      { type: ApplicationCommandOptionType.Subcommand, name: "status", description: "Who you're linked as" },
      { type: ApplicationCommandOptionType.Subcommand, name: "link", description: "Link your Discord account to your work account" },
      { type: ApplicationCommandOptionType.Subcommand, name: "unlink", description: "Unlink your Discord account" },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "subscribe",
        description: "Post a project's alerts in this channel",
        options: [
          { type: ApplicationCommandOptionType.String, name: "project", description: "The project", required: true },
          {
            type: ApplicationCommandOptionType.String,
            name: "level",
            description: "The lowest level posted (default error)",
            choices: ["fatal", "error", "warning", "info", "debug"].map((level) => ({ name: level, value: level })),
          },
          { type: ApplicationCommandOptionType.Boolean, name: "thread", description: "Reply under each card saying who did what (default on)" },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "unsubscribe",
        description: "Stop posting a project's alerts here",
        options: [{ type: ApplicationCommandOptionType.String, name: "project", description: "The project", required: true }],
      },
      { type: ApplicationCommandOptionType.Subcommand, name: "subscriptions", description: "The projects posted in this channel" },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "notify",
        description: "A direct message when issues are assigned to you",
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: "state",
            description: "on or off",
            required: true,
            choices: ["on", "off"].map((state) => ({ name: state, value: state })),
          },
        ],
      },
    ],
  },
];
