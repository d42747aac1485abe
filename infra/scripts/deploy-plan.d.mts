// Types of deploy-plan.mjs, which stays plain JavaScript: deploy.sh runs it with node, before anything is built.

export declare const EXTRA_SETTINGS_FROM_ENV: readonly string[];
export declare const EXTRA_SETTINGS: readonly string[];
export declare const SECRET_SETTINGS: readonly string[];
export declare const KEY_VAULT_SECRETS: readonly string[];

export interface DeploymentPlan {
  effective: {
    slackClientId: string;
    discordApplicationId: string;
    discordAllowedGuilds: string;
    oidcIssuer: string;
    oidcClientId: string;
    teamsAllowedTenants: string;
    ingestEnabled: boolean;
    sentryEnabled: boolean;
  };
  secrets: string[];
  problems: string[];
  extraAppSettings: Record<string, unknown> | undefined;
}

export declare function plan(parametersFile: string, env: Record<string, string | undefined>): DeploymentPlan;

export interface TurnedOff {
  key: string;
  label: string;
  was: string;
  keep: string;
  confirmed: boolean;
}

export declare function turnedOff(
  result: DeploymentPlan,
  previousParameters: Record<string, { value?: unknown }> | undefined,
  env: Record<string, string | undefined>,
  parametersFile: string,
): TurnedOff[];

export declare function turnedOffReport(
  off: TurnedOff[],
  options: { parametersFile: string; whatIf: boolean },
): { stdout: string; stderr: string; ok: boolean };
