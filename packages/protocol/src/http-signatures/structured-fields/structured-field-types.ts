/**
 * The data model of RFC 8941 Structured Field Values (§3), as our strict parser produces and our
 * serializer consumes it. Integers and decimals are kept apart because they serialize differently
 * (`1` versus `1.0`), and parameters keep their order because RFC 9421 §2.3 signs them in order.
 */

/** An RFC 8941 §3.3 bare item. */
export type BareItem =
  | { readonly type: "integer"; readonly value: number }
  | { readonly type: "decimal"; readonly value: number }
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "token"; readonly value: string }
  | { readonly type: "byte-sequence"; readonly value: Uint8Array }
  | { readonly type: "boolean"; readonly value: boolean };

/** RFC 8941 §3.1.2 parameters, in order, with unique keys. */
export type Parameters = ReadonlyArray<readonly [key: string, value: BareItem]>;

/** An RFC 8941 §3.3 item: a bare item with parameters. */
export interface Item {
  readonly kind: "item";
  readonly value: BareItem;
  readonly params: Parameters;
}

/** An RFC 8941 §3.1.1 inner list: items with parameters of the list itself. */
export interface InnerList {
  readonly kind: "inner-list";
  readonly items: readonly Item[];
  readonly params: Parameters;
}

/** An RFC 8941 §3.2 dictionary: ordered members keyed by unique keys. */
export type Dictionary = ReadonlyMap<string, Item | InnerList>;
