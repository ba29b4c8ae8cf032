// Types of map-module.cjs (plain JavaScript, shared with the worker entry).
export interface ErrorReply {
  message: string;
  name: string;
  stack: string | undefined;
  code: unknown;
  value?: string;
}
export function loadMapModule(href: string): Promise<(batch: unknown, ctx: unknown) => unknown>;
export function transfersOf(value: unknown): ArrayBuffer[];
export function errorReply(error: unknown): ErrorReply;
