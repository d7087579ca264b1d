// Errors of the PostgreSQL wire server itself (listening, broken clients); errors of statements are SqlError.
import { OxbowError, type OxbowErrorOptions } from '../../errors.ts';

export const PgWireErrorCode = {
  /** The server could not listen on the configured host and port. */
  LISTEN_FAILED: 'OXBOW_PGWIRE_LISTEN_FAILED',
  /** A client broke the protocol (unknown message type, a message that does not decode); its connection is closed. */
  PROTOCOL_VIOLATION: 'OXBOW_PGWIRE_PROTOCOL_VIOLATION',
  /** A client sent a message larger than maxMessageBytes; its connection is closed. */
  MESSAGE_TOO_LARGE: 'OXBOW_PGWIRE_MESSAGE_TOO_LARGE',
} as const;
export type PgWireErrorCode = (typeof PgWireErrorCode)[keyof typeof PgWireErrorCode];

export class PgWireError extends OxbowError {
  declare readonly code: PgWireErrorCode;
  constructor(code: PgWireErrorCode, message: string, options?: OxbowErrorOptions) {
    super(code, message, options);
  }
}
