import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { isAssetName, readAsset, ASSETS } from "../approval-page/assets.js";
import { approvalPageUnavailable } from "../approval-page/config.js";
import { signedInPageResponse, SIGNED_IN_FILE, type ApprovalPageConfig } from "../approval-page/page.js";
import { describeError } from "../errors.js";

export interface ApprovalPageHandlers {
  /** GET /api/approval-page/{file}: the page's script, style and library (a fixed allow-list), or the sign-in return page. */
  file(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit>;
}

const TEXT = { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store" };

/**
 * The approval page's static side, anonymous like any web page's assets: the files hold no data and no secret (the
 * page reads the proposal with the signed-in person's token). Only the names in ASSETS are served; no path is built
 * from the request. `pageConfig` is undefined when the page is not configured.
 */
export function createApprovalPageHandlers(pageConfig: () => ApprovalPageConfig | undefined): ApprovalPageHandlers {
  return {
    file: async (request, context) => {
      const name = request.params.file ?? "";
      if (name === SIGNED_IN_FILE) {
        let config: ApprovalPageConfig | undefined;
        try {
          config = pageConfig();
        } catch (error) {
          // Invalid app settings: one line in the log (it names the setting), a plain answer to the browser.
          context.error(`amlguard approval page: ${describeError(error)}`);
          return { status: 503, body: "The approval page cannot start: the Function App's settings are invalid (see its log).\n", headers: TEXT };
        }
        return config ? signedInPageResponse(config) : approvalPageUnavailable();
      }
      if (!isAssetName(name)) return { status: 404, body: "Not found: the approval page serves approval.js, approval.css, msal-browser.min.js and signed-in.\n", headers: TEXT };
      try {
        const body = await readAsset(name);
        return { status: 200, body, headers: { "Content-Type": ASSETS[name].contentType, "X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300" } };
      } catch (error) {
        context.error(`amlguard approval page: ${name} could not be read: ${describeError(error)}`);
        return { status: 500, body: "The approval page's files are missing from this deployment.\n", headers: TEXT };
      }
    },
  };
}
