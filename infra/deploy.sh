#!/usr/bin/env bash
# Deploys Triage Relay with the Azure CLI: the Bicep infrastructure, the Key Vault
# secrets, then the code package. Re-running with the same inputs changes nothing.
# Usage: npm run deploy -- --help (details in README.md, "Deploy to Azure").
#
# Written for bash 3.2 too (macOS): no associative arrays, no mapfile, no ${x,,}.

set -Eeuo pipefail

readonly MIN_AZ_VERSION=2.60.0
readonly RETRIES=${RELAY_DEPLOY_RETRIES:-12}
readonly RETRY_DELAY=${RELAY_DEPLOY_RETRY_DELAY:-15}

# No external commands until az is known to exist: the "az missing" check must work on a bare PATH.
here=${BASH_SOURCE[0]%/*}
[ "$here" = "${BASH_SOURCE[0]}" ] && here=.
ROOT=$(cd "$here/.." && pwd)
readonly ROOT

usage() {
  cat <<'EOF'
Usage: npm run deploy -- [options]     (same as: bash infra/deploy.sh [options])

Required, as a flag or an environment variable:
  -g, --resource-group NAME   AZURE_RESOURCE_GROUP
  -p, --name-prefix PREFIX    RELAY_NAME_PREFIX    2-12 lowercase letters and digits, starting with a letter
  -l, --location REGION       AZURE_LOCATION       a region with Flex Consumption, e.g. swedencentral

Options:
  -s, --subscription ID       AZURE_SUBSCRIPTION_ID (default: the Azure CLI's current subscription)
      --parameters FILE       Bicep parameters (default: infra/main.parameters.json)
      --create-group          create the resource group if it does not exist
      --what-if               show what the deployment would change, then stop
      --skip-build            publish the existing dist/ instead of running npm run build
      --force-publish         publish the code even if the package is unchanged
  -h, --help                  show this help

Passed to Bicep when set in the environment (override the parameters file):
  SLACK_CLIENT_ID  DISCORD_APPLICATION_ID  DISCORD_ALLOWED_GUILDS  OIDC_ISSUER  OIDC_CLIENT_ID
  TEAMS_ALLOWED_TENANTS
  and into extraAppSettings (merged over the parameters file's):
  SLACK_ALLOWED_TEAMS  SLACK_COMMAND  TEAMS_SERVICE_URL_HOSTS  IDENTITY_AUTO_LINK  RENOTIFY_HOURS
  CARD_REFRESH_COALESCE_SECONDS  THREAD_BROADCAST_REGRESSIONS
  App settings are replaced on every deployment: keep these in the parameters file to keep them set.
  A run that would turn off what the running deployment has on (Slack, Discord, OIDC, other Teams tenants,
  ingest, Sentry, an extraAppSettings entry), because neither the environment nor the parameters file sets
  it, is refused before anything changes. To turn them off on purpose, name them in
  RELAY_DEPLOY_TURN_OFF (comma-separated): slack discord oidc teams-tenants ingest sentry, or the setting's name.

Written to Key Vault when set in the environment (values are never printed):
  SLACK_SIGNING_SECRET  SLACK_CLIENT_SECRET  DISCORD_PUBLIC_KEY  DISCORD_BOT_TOKEN  LINK_SIGNING_KEY
  OIDC_CLIENT_SECRET  INGEST_TOKENS  SENTRY_CLIENT_SECRET (setting them turns on /api/ingest/*, /api/ingest/sentry)
  LINK_SIGNING_KEY is generated once when neither the environment nor the vault has one, and so is
  INGEST_TOKENS when ingestEnabled is true in the parameters file. A turned-on feature whose secrets are
  in neither is refused before anything is changed (the app would refuse to start).

After publishing, waits up to RELAY_DEPLOY_HEALTH_TIMEOUT seconds (default 300; 0 skips) for the app
to answer GET /api/health with 200, on the Function App's own host name (not publicBaseUrl).
EOF
}

# An unexpected failure: the command's own error is already on stderr; say where we stopped.
# Reported once, by the main shell, not by every command substitution on the way out.
on_error() {
  [ "$BASH_SUBSHELL" -eq 0 ] || return 0
  printf 'error: deployment stopped at infra/deploy.sh line %s: %s\n' "$1" "$2" >&2
}
trap 'on_error "$LINENO" "$BASH_COMMAND"' ERR

log() { printf '%s\n' "$*"; }
step() { printf '\n==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
usage_error() {
  printf 'error: %s\n\nRun with --help for usage.\n' "$*" >&2
  exit 2
}

# ------------------------------------------------------------------ inputs

resource_group=${AZURE_RESOURCE_GROUP:-}
name_prefix=${RELAY_NAME_PREFIX:-}
location=${AZURE_LOCATION:-}
subscription=${AZURE_SUBSCRIPTION_ID:-}
parameters_file=$ROOT/infra/main.parameters.json
create_group=false
what_if=false
skip_build=false
force_publish=false

parse_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      -h | --help) usage && exit 0 ;;
      --create-group) create_group=true ;;
      --what-if) what_if=true ;;
      --skip-build) skip_build=true ;;
      --force-publish) force_publish=true ;;
      -g | --resource-group | -p | --name-prefix | -l | --location | -s | --subscription | --parameters)
        if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "$1 needs a value"; fi
        case $1 in
          -g | --resource-group) resource_group=$2 ;;
          -p | --name-prefix) name_prefix=$2 ;;
          -l | --location) location=$2 ;;
          -s | --subscription) subscription=$2 ;;
          --parameters) parameters_file=$2 ;;
        esac
        shift
        ;;
      *) usage_error "unknown argument: $1" ;;
    esac
    shift
  done
}

check_inputs() {
  local missing=""
  [ -n "$resource_group" ] || missing="$missing
  resource group  (--resource-group or AZURE_RESOURCE_GROUP)"
  [ -n "$name_prefix" ] || missing="$missing
  name prefix     (--name-prefix or RELAY_NAME_PREFIX)"
  [ -n "$location" ] || missing="$missing
  location        (--location or AZURE_LOCATION)"
  [ -z "$missing" ] || usage_error "missing required parameters:$missing"

  [[ $name_prefix =~ ^[a-z][a-z0-9]{1,11}$ ]] ||
    usage_error "name prefix '$name_prefix' must be 2-12 lowercase letters and digits, starting with a letter"
  [ -f "$parameters_file" ] || usage_error "parameters file not found: $parameters_file"
  deployment_name=triage-relay-$name_prefix
}

# The parameters file with the environment's overrides, checked for what the app would refuse to start with
# (infra/scripts/deploy-plan.mjs); exits 2 with the problems on stderr. Sets planned_secrets (the settings the
# app will read from Key Vault), vault_secrets (every secret a deployment may write there), extra_parameters
# (a parameters file with extraAppSettings, or "") and discord_application_id.
planned_secrets=""
vault_secrets=""
extra_parameters=""
discord_application_id=""
plan_deployment() {
  local plan name value
  plan=$(node "$ROOT/infra/scripts/deploy-plan.mjs" --parameters "$parameters_file" --extra-out "$workdir/extra-app-settings.json") || exit
  while read -r name value; do
    case $name in
      secrets) planned_secrets=$value ;;
      vault-secrets) vault_secrets=$value ;;
      extra-parameters) extra_parameters=$value ;;
      discordApplicationId) discord_application_id=$value ;;
    esac
  done <<<"$plan"
}

# ------------------------------------------------------------------ Azure CLI

subscription_args=()
# ARM commands take the subscription explicitly: the CLI's default is left alone.
az_arm() { az "$@" ${subscription_args[@]+"${subscription_args[@]}"}; }

check_tools() {
  command -v az >/dev/null 2>&1 ||
    die "the Azure CLI (az) is not installed or not on PATH: https://learn.microsoft.com/cli/azure/install-azure-cli"
  command -v node >/dev/null 2>&1 || die "node is not on PATH (Node.js 20 or later is needed to build and package the app)"

  workdir=$(mktemp -d "${TMPDIR:-/tmp}/triage-relay-deploy.XXXXXX")
  trap 'rm -rf "$workdir"' EXIT

  local version
  version=$(az version --output json 2>/dev/null | json_get azure-cli) || version=""
  [ -n "$version" ] || die "could not run 'az version': is the Azure CLI installation healthy?"
  version_at_least "$version" "$MIN_AZ_VERSION" ||
    die "Azure CLI $version is too old: Flex Consumption needs $MIN_AZ_VERSION or later (run 'az upgrade')"
}

check_login() {
  [ -z "$subscription" ] || subscription_args=(--subscription "$subscription")
  local account
  if ! account=$(az_arm account show --output json 2>"$workdir/az.err"); then
    if grep -q "az login" "$workdir/az.err"; then
      die "not logged in to Azure: run 'az login' (and 'az account set --subscription <id>' if you have several), then retry"
    fi
    die "cannot use subscription '${subscription:-default}': $(first_error_line)"
  fi
  subscription=$(json_get id <<<"$account")
  subscription_args=(--subscription "$subscription")
  log "Subscription $(json_get name <<<"$account") ($subscription), signed in as $(json_get user.name <<<"$account")"
}

ensure_resource_group() {
  if [ "$(az_arm group exists --name "$resource_group" --output tsv)" = "true" ]; then
    log "Resource group $resource_group exists"
  elif $what_if; then
    die "resource group '$resource_group' does not exist: what-if needs it (create it with a deployment run using --create-group)"
  elif $create_group; then
    az_arm group create --name "$resource_group" --location "$location" --output none
    log "Created resource group $resource_group in $location"
  else
    die "resource group '$resource_group' does not exist: pass --create-group to create it in $location"
  fi
}

# ------------------------------------------------------------------ the running deployment

# Saves the last deployment of this name (az deployment group show) to $workdir/previous.json and sets
# previous_vault, its Key Vault; neither exists before the first deployment.
previous_vault=""
read_previous_deployment() {
  if az_arm deployment group show --resource-group "$resource_group" --name "$deployment_name" --output json \
    >"$workdir/previous.json" 2>"$workdir/az.err"; then
    previous_vault=$(json_get properties.outputs.keyVaultName.value <"$workdir/previous.json")
    return
  fi
  rm -f "$workdir/previous.json"
  grep -qE "DeploymentNotFound|ResourceGroupNotFound" "$workdir/az.err" ||
    die "cannot read the running deployment $deployment_name to compare this one with: $(first_error_line)"
}

# App settings are replaced as a whole: a feature the running deployment has on that this run doesn't set (a shell
# without SLACK_CLIENT_ID) would quietly stop. Refused unless RELAY_DEPLOY_TURN_OFF names it; what-if only warns.
check_features_kept() {
  [ -f "$workdir/previous.json" ] || return 0
  if $what_if; then
    node "$ROOT/infra/scripts/deploy-plan.mjs" --parameters "$parameters_file" --previous "$workdir/previous.json" --what-if
  else
    node "$ROOT/infra/scripts/deploy-plan.mjs" --parameters "$parameters_file" --previous "$workdir/previous.json" || exit
  fi
}

# ------------------------------------------------------------------ infrastructure

set_deployment_args() {
  deploy_args=(
    --resource-group "$resource_group"
    --name "$deployment_name"
    --template-file "$ROOT/infra/main.bicep"
    --parameters "@$parameters_file"
    --parameters "namePrefix=$name_prefix" "location=$location"
  )
  [ -z "${SLACK_CLIENT_ID:-}" ] || deploy_args+=(--parameters "slackClientId=$SLACK_CLIENT_ID")
  [ -z "${DISCORD_APPLICATION_ID:-}" ] || deploy_args+=(--parameters "discordApplicationId=$DISCORD_APPLICATION_ID")
  [ -z "${DISCORD_ALLOWED_GUILDS:-}" ] || deploy_args+=(--parameters "discordAllowedGuilds=$DISCORD_ALLOWED_GUILDS")
  [ -z "${OIDC_ISSUER:-}" ] || deploy_args+=(--parameters "oidcIssuer=$OIDC_ISSUER")
  [ -z "${OIDC_CLIENT_ID:-}" ] || deploy_args+=(--parameters "oidcClientId=$OIDC_CLIENT_ID")
  [ -z "${TEAMS_ALLOWED_TENANTS:-}" ] || deploy_args+=(--parameters "teamsAllowedTenants=$TEAMS_ALLOWED_TENANTS")
  [ -z "${INGEST_TOKENS:-}" ] || deploy_args+=(--parameters "ingestEnabled=true")
  [ -z "${SENTRY_CLIENT_SECRET:-}" ] || deploy_args+=(--parameters "ingestEnabled=true" "sentryEnabled=true")
  [ -z "$extra_parameters" ] || deploy_args+=(--parameters "@$extra_parameters")
}

deploy_infrastructure() {
  step "Deploying infrastructure (infra/main.bicep)"
  az_arm deployment group create "${deploy_args[@]}" --output json >"$workdir/deployment.json" ||
    die "the Bicep deployment failed (the Azure CLI's error is above)"
  # One line per output, "name value"; arrays space-separated.
  node -e '
    const outputs = JSON.parse(require("node:fs").readFileSync(0, "utf8")).properties.outputs;
    for (const [name, { value }] of Object.entries(outputs)) console.log(name, [].concat(value).join(" "));
  ' <"$workdir/deployment.json" >"$workdir/outputs.txt"
  app_name=$(output functionAppName)
  app_id=$(output functionAppId)
  app_url=$(output appUrl)
  app_host=$(output appHostName)
  vault=$(output keyVaultName)
  if [ -z "$app_name" ] || [ -z "$app_id" ] || [ -z "$app_url" ] || [ -z "$app_host" ] || [ -z "$vault" ]; then
    die "the deployment did not return the outputs this script needs (functionAppName, functionAppId, appUrl, appHostName, keyVaultName)"
  fi
  log "Function App $app_name at $app_url"
}

output() {
  local name value
  while read -r name value; do
    [ "$name" != "$1" ] || { printf '%s' "$value"; return; }
  done <"$workdir/outputs.txt"
}

# ------------------------------------------------------------------ secrets
#
# When the running deployment has a vault, its secrets are checked, then written, before the deployment: the
# deployment's settings change restarts the app, and a new Key Vault reference to a secret not written yet would
# reach the code as the literal "@Microsoft.KeyVault(...)" text, so the app would refuse to start. On a first
# deployment, or while the vault doesn't let this caller in yet (the deployment grants it Key Vault Secrets
# Officer), sync_secrets does it all after the deployment.

# The Key Vault secret holding a setting: its name in kebab case (SLACK_CLIENT_SECRET -> slack-client-secret).
secret_name() { printf '%s' "$1" | tr 'A-Z_' 'a-z-'; }

# Secrets this script makes up when neither the environment nor the vault has one.
generated() { case $1 in LINK_SIGNING_KEY | INGEST_TOKENS) return 0 ;; *) return 1 ;; esac; }

generate_secret() {
  case $1 in
    LINK_SIGNING_KEY) node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64"))' ;;
    # Hex: no commas (the setting is a comma-separated list) and 64 characters (at least 32 are required).
    INGEST_TOKENS) node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("hex"))' ;;
  esac
}

# The parameter (and variable) that turns on the feature reading a secret.
feature_switch() {
  case $1 in
    SLACK_*) printf 'slackClientId (SLACK_CLIENT_ID)' ;;
    DISCORD_*) printf 'discordApplicationId (DISCORD_APPLICATION_ID)' ;;
    OIDC_*) printf 'oidcIssuer (OIDC_ISSUER)' ;;
    SENTRY_*) printf 'sentryEnabled' ;;
    INGEST_*) printf 'ingestEnabled' ;;
    *) printf 'the template' ;;
  esac
}

# refuse_missing_secrets WHAT-HAPPENED SETTING...: the app would get the literal "@Microsoft.KeyVault(...)" text
# for each and refuse to start, so stop rather than report a deployment that can't run.
refuse_missing_secrets() {
  local happened=$1 setting
  shift
  {
    printf 'error: %s: these secrets are turned on but in neither the environment nor Key Vault, and the app refuses to start without them:\n' "$happened"
    for setting in "$@"; do
      printf '  %s (Key Vault secret %s), read because %s is set\n' "$setting" "$(secret_name "$setting")" "$(feature_switch "$setting")"
    done
    printf 'Set each in the environment and run the deployment again (read -rs NAME && export NAME keeps the value out of\n'
    printf 'your shell history), or turn the feature off.\n'
  } >&2
  exit 1
}

has_word() { case " $1 " in *" $2 "*) return 0 ;; *) return 1 ;; esac; }

# shellcheck disable=SC2048,SC2086 # one word per setting
sorted_words() { printf '%s\n' $* | sort | tr '\n' ' '; }

refused_access() { grep -qiE "forbidden|not authorized|AuthorizationFailed" "$workdir/az.err"; }

# az_vault TRIES ARGS...: runs a Key Vault data-plane command, trying up to TRIES times while access is refused
# (after the deployment, a fresh Key Vault Secrets Officer assignment takes a while to propagate).
az_vault() {
  local tries=$1 attempt=1
  shift
  while ! az "$@" 2>"$workdir/az.err"; do
    refused_access && [ "$attempt" -lt "$tries" ] || return 1
    # stderr: stdout may be a secret value being captured.
    [ "$attempt" -gt 1 ] || log "  waiting for Key Vault access to propagate..." >&2
    attempt=$((attempt + 1))
    sleep "$RETRY_DELAY"
  done
}

# read_secret TRIES VAULT NAME: sets current_value and returns 0 if the secret exists, 1 if it doesn't, and 2 if
# access is still refused after TRIES tries.
read_secret() {
  if current_value=$(az_vault "$1" keyvault secret show --vault-name "$2" --name "$3" --query value --output tsv); then
    return 0
  fi
  grep -q "SecretNotFound" "$workdir/az.err" && return 1
  refused_access && return 2
  die "cannot read secret '$3' from Key Vault $2: $(first_error_line)"
}

# write_secret TRIES VAULT NAME VALUE: returns 1 if access is still refused after TRIES tries. The value goes
# through a mode-600 file, never the command line (process listings).
write_secret() {
  local file written=true
  file=$(mktemp "$workdir/secret.XXXXXX")
  printf '%s' "$4" >"$file"
  az_vault "$1" keyvault secret set --vault-name "$2" --name "$3" --file "$file" --encoding utf-8 --output none || written=false
  rm -f "$file"
  $written && return 0
  refused_access && return 1
  die "cannot write secret '$3' to Key Vault $2: $(first_error_line)"
}

# Before anything changes: a turned-on feature whose secret is nowhere would stop the app at its next start. With
# the running deployment's vault, one look each (no waiting for access only the deployment grants) decides what
# to write before the deployment: sets secrets_to_write, and secrets_checked when the vault answered for all.
secrets_to_write=""
secrets_checked=false
secrets_changed=false
check_planned_secrets() {
  local setting found missing=""
  if [ -z "$previous_vault" ]; then
    for setting in $planned_secrets; do
      if [ -z "${!setting:-}" ] && ! generated "$setting"; then missing="$missing $setting"; fi
    done
  else
    secrets_checked=true
    for setting in $planned_secrets; do
      found=0
      read_secret 1 "$previous_vault" "$(secret_name "$setting")" || found=$?
      case $found in
        0) [ -z "${!setting:-}" ] || [ "${!setting}" = "$current_value" ] || secrets_to_write="$secrets_to_write $setting" ;;
        1)
          if [ -n "${!setting:-}" ] || generated "$setting"; then
            secrets_to_write="$secrets_to_write $setting"
          else
            missing="$missing $setting"
          fi
          ;;
        *)
          log "Key Vault $previous_vault doesn't let you read secrets yet: they are checked after the deployment, which grants you access"
          secrets_checked=false
          secrets_to_write=""
          missing=$(secrets_nowhere_known)
          break
          ;;
      esac
    done
  fi
  # shellcheck disable=SC2086 # one word per setting
  [ -z "$missing" ] || refuse_missing_secrets "nothing was deployed" $missing
}

# Without access to the vault: the planned secrets that are neither in the environment, generated, nor referenced
# by the running deployment (whose vault then holds them). A feature turned on with its secret in none of those
# would get a Key Vault reference to nothing, and the app would refuse to start when the deployment restarts it.
secrets_nowhere_known() {
  local setting wired
  wired=" $(json_get properties.outputs.keyVaultSecretSettings.value <"$workdir/previous.json") "
  for setting in $planned_secrets; do
    [ -n "${!setting:-}" ] || generated "$setting" || has_word "$wired" "$setting" || printf ' %s' "$setting"
  done
}

write_secrets_before_deployment() {
  $secrets_checked || return 0
  step "Secrets (Key Vault $previous_vault), written before the deployment so the settings it applies find them"
  local setting value
  for setting in $planned_secrets; do
    if ! has_word "$secrets_to_write" "$setting"; then
      if [ -n "${!setting:-}" ]; then log "  $setting: unchanged"; else log "  $setting: kept"; fi
      continue
    fi
    value=${!setting:-}
    [ -n "$value" ] || value=$(generate_secret "$setting")
    if ! write_secret 1 "$previous_vault" "$(secret_name "$setting")" "$value"; then
      log "  Key Vault $previous_vault doesn't let you write secrets yet: they are written after the deployment, which grants you access"
      secrets_checked=false
      return
    fi
    secrets_changed=true
    log "  $setting: written"
  done
}

sync_secrets() {
  local wired setting secret desired missing="" found
  wired=" $(output keyVaultSecretSettings) "
  # shellcheck disable=SC2086 # one word per setting
  if ! $secrets_checked || [ "$vault" != "$previous_vault" ] || [ "$(sorted_words $wired)" != "$(sorted_words $planned_secrets)" ]; then
    step "Secrets (Key Vault $vault)"
    for setting in $wired; do
      secret=$(secret_name "$setting")
      desired=${!setting:-}
      found=0
      read_secret "$RETRIES" "$vault" "$secret" || found=$?
      [ "$found" -ne 2 ] || die "cannot read secret '$secret' from Key Vault $vault: $(first_error_line)"
      if [ "$found" -eq 0 ]; then
        if [ -z "$desired" ]; then
          log "  $setting: kept"
          continue
        elif [ "$desired" = "$current_value" ]; then
          log "  $setting: unchanged"
          continue
        fi
      elif [ -z "$desired" ]; then
        if ! generated "$setting"; then
          missing="$missing $setting"
          continue
        fi
        desired=$(generate_secret "$setting")
      fi
      write_secret "$RETRIES" "$vault" "$secret" "$desired" || die "cannot write secret '$secret' to Key Vault $vault: $(first_error_line)"
      secrets_changed=true
      log "  $setting: written"
    done
  fi
  # shellcheck disable=SC2086 # one word per setting
  [ -z "$missing" ] || refuse_missing_secrets "the infrastructure is deployed, the code is not published" $missing
  for setting in $vault_secrets; do
    case $wired in *" $setting "*) continue ;; esac
    [ -z "${!setting:-}" ] || warn "$setting is set but this deployment doesn't use it: it is read only when $(feature_switch "$setting") is set"
  done
}

# App Service caches Key Vault references for up to 24 hours; this re-reads them now.
refresh_secret_references() {
  $secrets_changed || return 0
  az rest --method post --url "$app_id/config/configreferences/appsettings/refresh?api-version=2022-03-01" --output none 2>"$workdir/az.err" ||
    warn "could not refresh the app's Key Vault references ($(first_error_line)); restart the app to pick up new secrets"
}

# ------------------------------------------------------------------ code

build_app() {
  if $skip_build; then
    [ -f "$ROOT/dist/index.js" ] || die "--skip-build given but dist/index.js does not exist: run 'npm run build' first"
    log "Using the existing build in dist/"
  else
    step "Building (npm run build)"
    (cd "$ROOT" && npm run build) || die "the build failed"
    [ -f "$ROOT/dist/index.js" ] || die "npm run build did not produce dist/index.js"
  fi
  package_sha=$(node "$ROOT/infra/scripts/zip-app.mjs" --root "$ROOT" --out "$workdir/app.zip") || die "packaging the app failed"
  # Kept under .tmp/ (git-ignored) so an earlier package can be published again to roll back.
  package_zip=$ROOT/.tmp/deploy/app-${package_sha:0:12}.zip
  mkdir -p "$ROOT/.tmp/deploy"
  cp "$workdir/app.zip" "$package_zip"
}

# The hash of the last published package is a tag on the resource group: the
# Bicep deployment owns every tag of the app itself and would erase it there.
publish_app() {
  step "Publishing the code"
  local tag="triage-relay-package-$app_name" group
  group=$(az_arm group show --name "$resource_group" --output json)
  if ! $force_publish && [ "$(json_get "tags.$tag" <<<"$group")" = "$package_sha" ]; then
    log "Package unchanged (sha256 ${package_sha:0:12}): not published (--force-publish to publish anyway)"
    return
  fi
  upload_package
  az_arm tag update --resource-id "$(json_get id <<<"$group")" --operation Merge --tags "$tag=$package_sha" --output none
  log "Published $package_zip"
}

# Flex Consumption uploads the package with the app's own identity (functionAppConfig.deployment): on a first
# deployment its Storage Blob Data Owner role may still be propagating, which the publish endpoint answers with
# 400 or 403 (BlobUploadFailedException). A later try works.
upload_package() {
  local attempt=1 status
  while ! az_arm functionapp deployment source config-zip --resource-group "$resource_group" --name "$app_name" \
    --src "$package_zip" --output none 2>"$workdir/publish.err"; do
    if [ "$attempt" -ge "$RETRIES" ] || ! grep -qE "Status Code: 40[03]|BlobUploadFailedException|AuthorizationPermissionMismatch" "$workdir/publish.err"; then
      cat "$workdir/publish.err" >&2
      die "publishing the package failed (the Azure CLI's error is above)"
    fi
    status=403
    if grep -q "Status Code: 400" "$workdir/publish.err"; then status=400; fi
    warn "the app can't write its deployment storage yet ($status): its new role takes a few minutes to propagate; retrying in ${RETRY_DELAY}s (try $((attempt + 1)) of $RETRIES)"
    attempt=$((attempt + 1))
    sleep "$RETRY_DELAY"
  done
}

# The app reads its settings when it starts: a 200 from /api/health means it started and reaches storage. Asked of
# the Function App's own host name: publicBaseUrl may be a front door or custom domain not routed to it yet.
check_health() {
  local timeout=${RELAY_DEPLOY_HEALTH_TIMEOUT:-300} answer health_url="https://$app_host/api/health"
  [ "$timeout" != 0 ] || return 0
  step "Waiting for $health_url (the Function App's own host name; up to ${timeout}s)"
  # shellcheck disable=SC2016 # JavaScript's template literals, not the shell's
  if answer=$(node -e '
    const [url, seconds] = [process.argv[1], Number(process.argv[2])];
    const deadline = Date.now() + seconds * 1000;
    let last = "no answer";
    (async () => {
      for (;;) {
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(Math.max(1000, Math.min(30000, deadline - Date.now()))) });
          const body = (await response.text()).slice(0, 200);
          if (response.status === 200) return console.log(`200 ${body}`);
          last = `${response.status} ${body}`;
        } catch (error) {
          last = error.cause?.code ?? error.name ?? String(error);
        }
        if (Date.now() + 5000 >= deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 5000));
      }
      console.log(last);
      process.exitCode = 1;
    })();' "$health_url" "$timeout"); then
    log "  $answer"
    return
  fi
  die "the app does not answer GET $health_url with 200 (last answer: $answer): it is still starting, or it refused to start.
Its logs say why (Application Insights, or the Log stream in the portal); run the deployment again once it is fixed"
}

package_teams_app() {
  step "Teams app package"
  BOT_APP_ID=$(output botAppId) PUBLIC_BASE_URL=$app_url \
    "$ROOT/node_modules/.bin/tsx" "$ROOT/infra/teams/package.ts" --out "$ROOT/dist/teams-app.zip" ||
    die "building the Teams app package failed"
}

next_steps() {
  cat <<EOF

Triage Relay is deployed: $app_url

Next:
  1. Teams: upload dist/teams-app.zip (Teams > Apps > Manage your apps > Upload an app,
     or the Teams admin center for the whole organisation).
  2. Slack: point the request URLs in infra/slack-app-manifest.yaml at $app_url
     and paste the manifest into your Slack app (api.slack.com/apps > App Manifest).
  3. Alert producers: send base64-encoded JSON (schema v1) to
       $(output alertsQueueUrl)
     with an identity that has Storage Queue Data Message Sender on that queue:
       az role assignment create --role "Storage Queue Data Message Sender" \\
         --assignee <producer object id> --scope $(output alertsQueueResourceId)
EOF
  if [ -n "$discord_application_id" ]; then
    cat <<EOF
  Discord: set the Interactions Endpoint URL to $app_url/api/discord/interactions, run
     npm run discord:commands, then add the bot to a server:
       https://discord.com/oauth2/authorize?client_id=$discord_application_id&scope=bot+applications.commands&permissions=309237730304
EOF
  fi
  local ingest_url
  ingest_url=$(output ingestUrl)
  [ -n "$ingest_url" ] || return 0
  cat <<EOF
  4. Monitoring tools (README, "Connect your monitoring"): POST their webhooks to
       $ingest_url/alertmanager
       $ingest_url/grafana
       $ingest_url/azure-monitor
       $ingest_url/sentry
       $ingest_url/alerts   (alert schema v1 over HTTP)
     with the token from Key Vault (Authorization: Bearer <token>, or ?token=<token>):
       az keyvault secret show --vault-name $vault --name ingest-tokens --query value --output tsv
EOF
}

# ------------------------------------------------------------------ helpers

# json_get PATH: reads JSON on stdin and prints the value at a dotted PATH ("" when absent).
json_get() {
  node -e '
    let text = "";
    process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
      let value = JSON.parse(text);
      for (const key of process.argv[1].split(".")) value = value == null ? undefined : value[key];
      if (Array.isArray(value)) value = value.join(" ");
      process.stdout.write(value == null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value));
    });' "$1"
}

version_at_least() {
  node -e '
    const [have, want] = process.argv.slice(1).map((v) => v.split(".").map(Number));
    const order = have.map((n, i) => n - (want[i] ?? 0)).find((d) => d !== 0) ?? 0;
    process.exit(order >= 0 ? 0 : 1);' "$1" "$2"
}

first_error_line() {
  grep -m1 '[^[:space:]]' "$workdir/az.err" 2>/dev/null || printf 'no error output'
}

main() {
  parse_args "$@"
  check_inputs
  check_tools
  plan_deployment
  location=$(printf '%s' "$location" | tr -d ' ' | tr '[:upper:]' '[:lower:]')
  check_login
  read_previous_deployment
  check_features_kept
  $what_if || check_planned_secrets
  ensure_resource_group
  set_deployment_args

  if $what_if; then
    step "What-if: changes the deployment would make (nothing is changed)"
    az_arm deployment group what-if "${deploy_args[@]}" || die "what-if failed (the Azure CLI's error is above)"
    return
  fi

  build_app
  write_secrets_before_deployment
  deploy_infrastructure
  sync_secrets
  refresh_secret_references
  publish_app
  check_health
  package_teams_app
  next_steps
}

main "$@"
