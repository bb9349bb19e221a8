// amlguard's approval page (served by the Function App as /api/approval-page/approval.js; no framework, no build).
// It signs the person in with Microsoft Entra (authorization code + PKCE, @azure/msal-browser's global `msal`),
// reads the proposal from amlguard's API with their access token, and posts their decision. Everything that comes
// from outside (resource names, evidence, names of people) is written with textContent: it is never parsed as HTML.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("amlguard-config").textContent);
  const api = (path) => new URL(`${config.apiBase.replace(/\/+$/, "")}${path}`, window.location.href).href;
  const byId = (id) => document.getElementById(id);
  const show = (id, visible = true) => { byId(id).hidden = !visible; };
  const setText = (id, text) => { byId(id).textContent = text; };
  const status = (text) => setText("status", text);

  const msalApp = new msal.PublicClientApplication({
    auth: {
      clientId: config.clientId,
      authority: `${config.authorityHost.replace(/\/+$/, "")}/${config.tenantId}`,
      // The authority is trusted as configured: no instance discovery call to the public cloud.
      knownAuthorities: [new URL(config.authorityHost).host],
      // One fixed redirect URI (registered on the SPA app); MSAL then returns to the page the sign-in started from.
      redirectUri: api("/approval-page/signed-in"),
    },
    cache: { cacheLocation: "sessionStorage" },
  });

  const scopes = [config.apiScope];
  /** The exemption the form would ask for (set when a pending remediation proposal is shown). */
  let exemptOffer;
  let exemptFocused = false;

  async function start() {
    await msalApp.initialize();
    const returned = await msalApp.handleRedirectPromise();
    if (config.mode === "signed-in") {
      // MSAL navigates back to the proposal's page; if it could not tell which, say so.
      if (returned) status("Signed in. Go back to the link in the alert to see the proposal.");
      return;
    }
    if (returned && returned.account) msalApp.setActiveAccount(returned.account);
    const account = msalApp.getActiveAccount() || msalApp.getAllAccounts()[0];
    if (!account) {
      status("Sign in to review this proposal.");
      show("sign-in");
      byId("sign-in-button").focus();
      return;
    }
    msalApp.setActiveAccount(account);
    setText("account-name", account.name || account.username);
    show("account");
    await loadProposal();
  }

  async function token() {
    const account = msalApp.getActiveAccount();
    try {
      return (await msalApp.acquireTokenSilent({ scopes, account })).accessToken;
    } catch (error) {
      if (error instanceof msal.InteractionRequiredAuthError || error instanceof msal.BrowserAuthError) {
        await msalApp.acquireTokenRedirect({ scopes, account });
      }
      throw error;
    }
  }

  async function call(method, path, body) {
    const headers = { Authorization: `Bearer ${await token()}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(api(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", cache: "no-store" });
    let json = {};
    try {
      json = await response.json();
    } catch {
      json = {};
    }
    return { status: response.status, json };
  }

  async function loadProposal() {
    status("Loading the proposal…");
    const { status: code, json } = await call("GET", `/proposals/${encodeURIComponent(config.proposalId)}`);
    if (code !== 200) {
      status("");
      showResult("refused", `The proposal could not be read (HTTP ${code}): ${errorText(json)}`);
      return;
    }
    render(json);
    status("Proposal loaded.");
  }

  function render(p) {
    const exemption = p.kind === "exemption";
    setText("proposal-kind", exemption ? "Exemption request" : "Proposed remediation");
    setText("proposal-status", String(p.status || ""));
    byId("proposal-status").dataset.status = String(p.status || "");
    setText("resource-id", String(p.resourceId || ""));
    setText("requested-by", p.requestedBy ? actorText(p.requestedBy) : "not known (no caller in the event)");
    setText("created-at", when(p.createdAt));
    setText("expires-at", when(p.expiresAt));
    setText("observed-etag", p.observed && p.observed.etag ? `ETag ${p.observed.etag}` : "values as read (no ETag)");
    const findings = byId("findings");
    findings.replaceChildren(...(p.findings || []).map(findingItem));
    if (p.action) {
      setText("action-description", String(p.action.description || ""));
      const keys = [...new Set([...Object.keys(p.action.before || {}), ...Object.keys(p.action.after || {})])];
      byId("change-rows").replaceChildren(...keys.map((key) => changeRow(key, p.action.before?.[key], p.action.after?.[key])));
      setText("undo", String(p.action.undo || ""));
      show("change");
    }
    if (p.exemption) {
      const rules = p.exemption.rules === "*" ? "every rule except high-severity ones" : (p.exemption.rules || []).join(", ");
      setText("exemption-rules", rules);
      setText("exemption-reason", String(p.exemption.reason || ""));
      setText("exemption-expires", String(p.exemption.expires || ""));
      show("exemption");
    }
    setText("cli-approve", p.cli && p.cli.approve ? p.cli.approve : `amlguard proposals approve ${config.proposalId}`);
    renderOutcome(p);
    setText("approve-button", exemption ? `Approve exemption until ${p.exemption ? p.exemption.expires : "…"}` : "Approve and remediate");
    show("proposal");
    show("decide", Boolean(p.decidable));
    renderExemptOffer(p);
  }

  // "Exempt instead…" (remediation proposals): the dates and rules come from the API (exemptInstead), which computes
  // them from the server's clock and AMLGUARD_EXEMPTION_MAX_DAYS, so the form offers what the exemption rules accept.
  // It posts to /proposals/{id}/exempt (anonymous like the other proposal routes, token checked in-process), not to
  // /exemptions, whose function key a page cannot hold.
  function renderExemptOffer(p) {
    const offer = p.decidable ? p.exemptInstead : undefined;
    show("exempt", Boolean(offer));
    if (!offer) return;
    exemptOffer = { rules: offer.rules.map(String), earliest: String(offer.earliest), latest: String(offer.latest) };
    setText("exempt-rules", exemptOffer.rules.join(", "));
    const until = byId("exempt-until");
    until.min = exemptOffer.earliest;
    until.max = exemptOffer.latest;
    if (!until.value) until.value = String(offer.suggested);
    setText("exempt-until-help", `At most ${Number(offer.maxDays)} days (AMLGUARD_EXEMPTION_MAX_DAYS): any day from ${exemptOffer.earliest} to ${exemptOffer.latest}; ${String(offer.suggested)} is suggested.`);
    if (new URLSearchParams(window.location.search).get("intent") === "exempt" && !exemptFocused) {
      exemptFocused = true;
      byId("exempt").scrollIntoView();
      until.focus();
    }
  }

  async function exempt(expires, reason) {
    setBusy(true);
    showResult("pending", "Sending the exemption…");
    try {
      const { status: code, json } = await call("POST", `/proposals/${encodeURIComponent(config.proposalId)}/exempt`, { expires, reason });
      if (json.proposal && json.proposal.id) render(json.proposal);
      if (code === 201) showResult("done", `Exemption ${String(json.exemption && json.exemption.id)} approved by you for ${exemptOffer.rules.join(", ")} until ${expires}. This proposal is closed: nothing will be written.`);
      else showResult("refused", `Refused (HTTP ${code}): ${errorText(json)}`);
    } catch (error) {
      showResult("refused", `The exemption could not be sent: ${error && error.message ? error.message : String(error)}`);
    } finally {
      setBusy(false);
    }
  }

  function renderOutcome(p) {
    if (p.status === "pending" && !p.result) return show("outcome", false);
    const parts = [`${String(p.status)}`];
    if (p.decidedBy) parts.push(`by ${actorText(p.decidedBy)}`);
    if (p.decidedAt) parts.push(`at ${when(p.decidedAt)}`);
    if (p.decisionReason) parts.push(`reason: ${p.decisionReason}`);
    if (p.result && p.result.message) parts.push(`— ${p.result.message}`);
    if (p.supersededBy) parts.push(`(superseded by proposal ${p.supersededBy})`);
    setText("outcome-text", parts.join(" "));
    show("outcome");
  }

  function findingItem(f) {
    const li = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = `${f.title || f.ruleId} `;
    const severity = document.createElement("span");
    severity.className = "badge";
    severity.textContent = String(f.severity || "");
    const rule = document.createElement("code");
    rule.textContent = ` ${f.ruleId || ""}`;
    const evidence = document.createElement("p");
    evidence.textContent = String(f.evidence || "");
    li.append(title, severity, rule, evidence);
    return li;
  }

  function changeRow(key, before, after) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = key;
    tr.append(th, cell(before), cell(after));
    return tr;
  }

  function cell(value) {
    const td = document.createElement("td");
    const code = document.createElement("code");
    code.textContent = value === undefined ? "(absent)" : JSON.stringify(value);
    td.append(code);
    return td;
  }

  async function decide(action, body) {
    setBusy(true);
    showResult("pending", action === "approve" ? "Sending your approval…" : "Sending your rejection…");
    try {
      const { status: code, json } = await call("POST", `/proposals/${encodeURIComponent(config.proposalId)}/${action}`, body);
      // The API answers {proposal, result}; a refusal {error}, with the proposal when it was superseded (409).
      const proposal = json.proposal;
      if (proposal && proposal.id) render(proposal);
      if (code >= 200 && code < 300) showResult("done", decisionText(action, proposal, json.result || (proposal && proposal.result)));
      else showResult("refused", `Refused (HTTP ${code}): ${errorText(json)}`);
    } catch (error) {
      showResult("refused", `The decision could not be sent: ${error && error.message ? error.message : String(error)}`);
    } finally {
      setBusy(false);
    }
  }

  function decisionText(action, p, result) {
    if (action === "reject") return `Rejected. ${result && result.message ? result.message : "Nothing was changed."}`;
    const parts = [`Approved by you: ${String(result && result.decision ? result.decision : p && p.status ? p.status : "done")}.`];
    if (result && result.message) parts.push(result.message);
    if (result && result.undo) parts.push(`Undo: ${result.undo}`);
    return parts.join(" ");
  }

  function showResult(kind, text) {
    const result = byId("result") || byId("status");
    result.dataset.kind = kind;
    result.textContent = text;
  }

  function setBusy(busy) {
    for (const id of ["approve-button", "reject-button", "exempt-button"]) byId(id).disabled = busy;
  }

  function errorText(json) {
    if (json && json.error && json.error.message) return `${json.error.message}${json.correlationId ? ` (correlation id ${json.correlationId})` : ""}`;
    return "no explanation was given";
  }

  function actorText(actor) {
    return actor.name && actor.name !== actor.objectId ? `${actor.name} (${actor.objectId})` : String(actor.objectId || "unknown");
  }

  function when(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso) : `${date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC")}`;
  }

  if (config.mode === "proposal") {
    byId("sign-in-button").addEventListener("click", () => void msalApp.loginRedirect({ scopes, prompt: "select_account" }));
    byId("switch-account").addEventListener("click", () => void msalApp.loginRedirect({ scopes, prompt: "select_account" }));
    byId("approve-button").addEventListener("click", () => void decide("approve", {}));
    byId("reject-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const reason = byId("reject-reason").value.trim();
      if (!reason) {
        byId("reject-reason").setAttribute("aria-invalid", "true");
        showResult("refused", "Give a reason to reject: it goes into the audit trail.");
        byId("reject-reason").focus();
        return;
      }
      byId("reject-reason").removeAttribute("aria-invalid");
      void decide("reject", { reason });
    });
    byId("exempt-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const until = byId("exempt-until");
      const reason = byId("exempt-reason");
      const day = until.value;
      const dayOk = /^\d{4}-\d{2}-\d{2}$/.test(day) && exemptOffer && day >= exemptOffer.earliest && day <= exemptOffer.latest;
      const reasonOk = reason.value.trim().length >= 3;
      const mark = (element, ok) => (ok ? element.removeAttribute("aria-invalid") : element.setAttribute("aria-invalid", "true"));
      mark(until, dayOk);
      mark(reason, reasonOk);
      if (!dayOk) {
        showResult("refused", `Choose a day from ${exemptOffer ? exemptOffer.earliest : "today"} to ${exemptOffer ? exemptOffer.latest : "the maximum"}.`);
        return until.focus();
      }
      if (!reasonOk) {
        showResult("refused", "Give a reason for the exemption (3 characters or more): it goes into the audit trail.");
        return reason.focus();
      }
      void exempt(day, reason.value.trim());
    });
  }

  start().catch((error) => {
    status("");
    showResult("refused", `Sign-in failed: ${error && error.message ? error.message : String(error)}`);
  });
})();
