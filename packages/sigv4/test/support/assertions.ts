import assert from "node:assert/strict";
import { S3Error, type S3ErrorCode } from "@osp/errors";
import type { AuthenticatedRequest } from "../../src/index.js";

/** Asserts that authentication succeeded and returns the result. */
export function expectAuthenticated(result: AuthenticatedRequest | S3Error | null): AuthenticatedRequest {
  if (result === null) assert.fail("expected an authenticated request, got null (anonymous)");
  if (result instanceof S3Error)
    assert.fail(`expected an authenticated request, got ${result.code}: ${result.message}`);
  return result;
}

/** Asserts an S3Error with this code (and its table status), and returns it for further checks. */
export function expectError(result: unknown, code: S3ErrorCode, status?: number): S3Error {
  assert.ok(result instanceof S3Error, `expected S3Error ${code}, got ${describe(result)}`);
  assert.equal(result.code, code, `expected ${code}, got ${result.code}: ${result.message}`);
  if (status !== undefined) assert.equal(result.status, status);
  return result;
}

/** The value of one field of an S3Error (`undefined` when absent). */
export function field(error: S3Error, name: string): string | undefined {
  return error.fields.find(([n]) => n === name)?.[1];
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return typeof value === "object" ? "an authenticated request" : String(value);
}
