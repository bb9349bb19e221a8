/** The first line of the query: lets a reader (and the sandbox) recognise it. */
export const SPIKE_QUERY_MARKER = "// amlguard-spikes v1";

export interface SpikeQueryOptions {
  /** Baseline and window together, in whole days (the baseline is this minus the window). */
  lookbackDays: number;
  /** Bucket size in hours. */
  bucketHours: number;
}

/**
 * Failed authentication around the ML estate, counted per source, target, principal and IP per bucket over the
 * lookback. One query, `union isfuzzy=true`, so a workspace without one of the tables still answers. Column names and
 * types follow Azure Monitor's table reference (test/fixtures/kusto/tables.json); the build validates the query with
 * Kusto.Language against those schemas. Scoring (baseline vs window) happens in TypeScript over these counts.
 */
export function buildSpikeQuery(options: SpikeQueryOptions = { lookbackDays: 7, bucketHours: 1 }): string {
  return `${SPIKE_QUERY_MARKER}: failed authentication around the ML estate, bucketed for a baseline comparison
let lookback = ${options.lookbackDays}d;
let bucket = ${options.bucketHours}h;
union isfuzzy=true
    (AmlOnlineEndpointTrafficLog
    | where TimeGenerated > ago(lookback) and ResponseCode in (401, 403)
    | project TimeGenerated, Source = "aml-online-endpoint", Target = strcat(AzureMLWorkspaceName, "/", EndpointName), Principal = iff(isempty(IdentityData), strcat("authType:", AuthType), IdentityData), IpAddress = ""),
    (SigninLogs
    | where TimeGenerated > ago(lookback) and ResultType != "0"
    | project TimeGenerated, Source = "entra-user", Target = AppDisplayName, Principal = UserPrincipalName, IpAddress = IPAddress),
    (AADNonInteractiveUserSignInLogs
    | where TimeGenerated > ago(lookback) and ResultType != "0"
    | project TimeGenerated, Source = "entra-user-noninteractive", Target = AppDisplayName, Principal = UserPrincipalName, IpAddress = IPAddress),
    (AADServicePrincipalSignInLogs
    | where TimeGenerated > ago(lookback) and ResultType != "0"
    | project TimeGenerated, Source = "entra-service-principal", Target = ResourceDisplayName, Principal = iff(isempty(ServicePrincipalName), AppId, ServicePrincipalName), IpAddress = IPAddress),
    (AADManagedIdentitySignInLogs
    | where TimeGenerated > ago(lookback) and ResultType != "0"
    | project TimeGenerated, Source = "entra-managed-identity", Target = ResourceDisplayName, Principal = iff(isempty(ServicePrincipalName), AppId, ServicePrincipalName), IpAddress = IPAddress),
    (StorageBlobLogs
    | where TimeGenerated > ago(lookback) and StatusCode in ("401", "403")
    | project TimeGenerated, Source = "storage-blob", Target = AccountName, Principal = case(isnotempty(RequesterUpn), RequesterUpn, isnotempty(RequesterObjectId), RequesterObjectId, isnotempty(RequesterAppId), RequesterAppId, strcat("auth:", AuthenticationType)), IpAddress = tostring(split(CallerIpAddress, ":")[0])),
    (AZKVAuditLogs
    // A 401 without a caller identity is the normal challenge that starts every Key Vault authentication.
    | where TimeGenerated > ago(lookback) and (HttpStatusCode == 403 or (HttpStatusCode == 401 and isnotempty(tostring(Identity))))
    | project TimeGenerated, Source = "key-vault", Target = tostring(split(_ResourceId, "/")[8]), Principal = tostring(Identity.claim.oid), IpAddress = CallerIpAddress),
    (AzureDiagnostics
    | where TimeGenerated > ago(lookback) and ResourceProvider == "MICROSOFT.KEYVAULT"
    | where httpStatusCode_d == 403 or (httpStatusCode_d == 401 and isnotempty(identity_claim_oid_g))
    | project TimeGenerated, Source = "key-vault", Target = Resource, Principal = iff(isempty(identity_claim_upn_s), tostring(identity_claim_oid_g), identity_claim_upn_s), IpAddress = CallerIPAddress),
    (AzureActivity
    | where TimeGenerated > ago(lookback) and ResourceProviderValue =~ "MICROSOFT.MACHINELEARNINGSERVICES" and ActivityStatusValue =~ "Failure" and OperationNameValue endswith "/WRITE"
    | project TimeGenerated, Source = "arm-ml-write", Target = _ResourceId, Principal = Caller, IpAddress = CallerIpAddress)
| summarize Failures = count(), FirstSeen = min(TimeGenerated), LastSeen = max(TimeGenerated) by Source, Target, Principal, IpAddress, Bucket = bin(TimeGenerated, bucket)`;
}
