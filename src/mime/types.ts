import type { Literal } from '../imap/types.js';
import type { Value } from '../imap/tokens.js';

/** An address of an ENVELOPE, with RFC 2047 encoded words in the name decoded. */
export interface Address {
  name: string | null;
  /** mailbox@host, or null for group syntax markers. */
  email: string | null;
}

/** ENVELOPE (RFC 9051 §7.5.2), header values decoded for display. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: Address[];
  sender: Address[];
  replyTo: Address[];
  to: Address[];
  cc: Address[];
  bcc: Address[];
  inReplyTo: string | null;
  messageId: string | null;
}

/** One node of a message's MIME tree, from BODYSTRUCTURE (or from parsing the message itself). */
export interface MimePart {
  /** IMAP part number: "1", "1.2", … The root of a multipart message is "" (it has no number of its own). */
  part: string;
  /** Lower case "type/subtype". */
  type: string;
  /** Content-Type parameters, names lower case, RFC 2231 continuations and charsets decoded. */
  params: Record<string, string>;
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding, lower case (7bit, 8bit, base64, quoted-printable, binary). */
  encoding: string | null;
  /** Body size in octets as the server stated it (encoded size), or null for multiparts. */
  size: number | null;
  lines: number | null;
  md5: string | null;
  disposition: { type: string; params: Record<string, string> } | null;
  /** From Content-Disposition filename (RFC 2231 decoded) or, failing that, Content-Type name. */
  filename: string | null;
  language: string[] | null;
  location: string | null;
  children: MimePart[];
  /** For message/rfc822 parts: the encapsulated message's envelope and body. */
  message: { envelope: Envelope | null; body: MimePart } | null;
}

/** What a FETCH item named BODY[…]<…>, BINARY[…] or RFC822[.HEADER|.TEXT] returned. */
export interface FetchedSection {
  /** The item name as the server sent it, e.g. "BODY[1.2]<0>". */
  item: string;
  kind: 'BODY' | 'BINARY' | 'BINARY.SIZE' | 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT';
  /** The section spec inside the brackets, as sent ("" for the whole message, "HEADER.FIELDS (DATE SUBJECT)"). */
  section: string;
  /** <origin> of a partial fetch response, or null. */
  origin: number | null;
  /** The value: a string (quoted or literal) or NIL. */
  value: Value;
  /** The literal carrying the octets, when it was a literal. */
  literal: Literal | null;
  /** Octets returned (literal length, or the quoted string's length; 0 for NIL). */
  length: number;
}

/** The attributes of one FETCH response, typed. */
export interface FetchAttributes {
  uid: number | null;
  flags: string[] | null;
  internalDate: string | null;
  /** RFC822.SIZE */
  size: number | null;
  envelope: Envelope | null;
  /** From BODYSTRUCTURE, or BODY without a section. */
  bodyStructure: MimePart | null;
  /** BODYSTRUCTURE (or BODY) as sent, not yet parsed: only when parseFetch was asked to defer it. */
  bodyStructureValue?: Value;
  sections: FetchedSection[];
  modseq: string | null;
  emailId: string | null;
  threadId: string | null;
  gmail: { msgId: string | null; threadId: string | null; labels: string[] | null } | null;
  /** Items we did not recognise, by name, kept as raw values. */
  other: Record<string, Value>;
}

/** A section spec parsed: which part, and which piece of it. */
export interface SectionSpec {
  /** Part number ("1.2"), or "" for the top-level message. */
  part: string;
  /** HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME, or null for the part's body itself. */
  text: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME' | null;
  /** Field names of HEADER.FIELDS (.NOT), upper case. */
  fields: string[];
}
