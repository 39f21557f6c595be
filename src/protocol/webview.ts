// What every Octet webview protocol declares: the messages its page may send (checked by the host, like any input
// from outside), the state the page saves across hide/show and reloads (checked when it comes back), and the
// messages the host sends (from trusted code: typed, not checked). Both the hosts (src/extension) and the pages
// (media/common/vscode-api.ts) take their types and validators from a WebviewProtocol.
import { check, Checked, Limits, Schema } from '../common/schema';

export interface WebviewProtocol<ToHost, ToWebview, State> {
  readonly name: string;
  readonly toHost: Schema<ToHost>;
  readonly state: Schema<State>;
  /** Nesting and size bounds for both. */
  readonly limits: Limits;
  /** Never set: carries the type of the host's messages to the page. */
  readonly toWebview?: (message: ToWebview) => void;
}

/** Checks a message from the page; on failure the error says which field and why. */
export function checkFromWebview<ToHost, ToWebview, State>(protocol: WebviewProtocol<ToHost, ToWebview, State>, message: unknown): Checked<ToHost> {
  return check(protocol.toHost, message, protocol.limits);
}

/** Checks state a page saved (and VS Code handed back). */
export function checkSavedState<ToHost, ToWebview, State>(protocol: WebviewProtocol<ToHost, ToWebview, State>, state: unknown): Checked<State> {
  return check(protocol.state, state, protocol.limits);
}
