import type {
  AuditEvent as LibraryAuditEvent,
  Command as LibraryCommand,
  SendCommandRequest,
  SendResult as LibrarySendResult,
  StatusCounts as LibraryStatusCounts,
  TsqEntry as LibraryTsqEntry,
} from '@commandbus/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { type AuditEvent, Command, ErrorBody, type SendCommand, type SendResult, type StatusCounts, TsqEntry } from '../schemas.ts';

/** The keys of T that may be left out. */
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

describe('Schemas', () => {
  // Checked by the type checker (npx tsc -p .): a field added to a library type and not to its
  // schema, or the other way round, fails here; so does a field that changes between required and optional.
  it('have the fields of the library types they document, required where the library requires them', () => {
    expectTypeOf<keyof z.input<typeof SendCommand>>().toEqualTypeOf<keyof SendCommandRequest>();
    expectTypeOf<OptionalKeys<z.input<typeof SendCommand>>>().toEqualTypeOf<OptionalKeys<SendCommandRequest>>();
    expectTypeOf<keyof z.infer<typeof SendResult>>().toEqualTypeOf<keyof LibrarySendResult>();
    // The API adds dataOmitted (a page too large to carry its payloads) and movedToTsqAt (parked commands).
    expectTypeOf<Exclude<keyof z.infer<typeof Command>, 'dataOmitted' | 'movedToTsqAt'>>().toEqualTypeOf<keyof LibraryCommand>();
    expectTypeOf<Exclude<OptionalKeys<z.infer<typeof Command>>, 'dataOmitted' | 'movedToTsqAt'>>().toEqualTypeOf<OptionalKeys<LibraryCommand>>();
    expectTypeOf<Exclude<keyof z.infer<typeof TsqEntry>, 'dataOmitted'>>().toEqualTypeOf<keyof LibraryTsqEntry>();
    expectTypeOf<keyof z.infer<typeof AuditEvent>>().toEqualTypeOf<keyof LibraryAuditEvent>();
    expectTypeOf<keyof z.infer<typeof StatusCounts>>().toEqualTypeOf<keyof LibraryStatusCounts>();
  });

  it('describe the answers the library gives', () => {
    const command: LibraryCommand = {
      domain: 'test',
      commandId: '0f8fad5b-d9cb-469f-a165-70867728950e',
      commandType: 'T',
      status: 'IN_TSQ',
      attempts: 3,
      maxAttempts: 3,
      correlationId: 'c',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:01.000Z',
      lastError: { type: 'PERMANENT', code: 'NOPE', message: 'no', details: { why: 1 } },
      data: { a: [1, 'two', null] },
    };

    expect(Command.safeParse(command).success).toBe(true);
    expect(TsqEntry.safeParse({ ...command, movedToTsqAt: '2026-01-01T00:00:01.000Z' }).success).toBe(true);
    expect(Command.safeParse({ ...command, surprise: true }).success).toBe(false);
    expect(ErrorBody.safeParse({ error: { type: 'ValidationError', code: 'VALIDATION_ERROR', message: 'x: bad', field: 'x' } }).success).toBe(true);
    expect(ErrorBody.safeParse({ error: { type: 'ValidationError', message: 'x: bad', extra: 1 } }).success).toBe(false);
  });
});
