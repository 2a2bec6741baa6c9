/**
 * One edge of the identity graph: an identity event linked `linkedId` to `anchorId` (a
 * customer.identified event its subject to an external id; a customer.merged event its survivor
 * to a merged id).
 */
export interface IdentityLink {
  eventId: string;
  kind: "identified" | "merged";
  anchorId: string;
  linkedId: string;
  /** Event time, RFC 3339 or a Date. */
  time: string | Date;
}

const instant = (t: string | Date) => (typeof t === "string" ? Date.parse(t) : t.getTime());
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Negative when `a` decides the canonical id before `b`. An explicit merge outranks every identify,
 * and the latest merge (time, then id) outranks earlier ones: it is the operator's most recent
 * word on who survives (the API resolves a merge's survivor to its customer first). Without a
 * merge, the earliest identify (time, then id) decides: the first account to claim an id keeps
 * it, and a later account that claims it too joins that customer. The anchor last makes it a
 * total order whatever the links say.
 */
function compareLinks(a: IdentityLink, b: IdentityLink): number {
  if (a.kind !== b.kind) return a.kind === "merged" ? -1 : 1;
  const direction = a.kind === "merged" ? -1 : 1;
  return direction * (instant(a.time) - instant(b.time) || byString(a.eventId, b.eventId)) || byString(a.anchorId, b.anchorId);
}

/**
 * The canonical id of every id the links mention. Ids linked directly or through others form one
 * customer; its canonical id is the anchor of the deciding link (compareLinks): the latest merge's
 * survivor, or, without merges, the earliest identify's subject. It depends on
 * the set of links only, never on the order they arrived in, which is what keeps ingest
 * order-independent. An id no link mentions is its own canonical id (absent from the map).
 */
export function canonicalIds(links: readonly IdentityLink[]): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (id: string): string => {
    let root = id;
    for (let up = parent.get(root); up !== undefined && up !== root; up = parent.get(root)) root = up;
    // Path compression: every id on the way points at the root now.
    for (let at = id, up = parent.get(at); up !== undefined && up !== root; at = up, up = parent.get(at)) parent.set(at, root);
    return root;
  };
  const add = (id: string) => {
    if (!parent.has(id)) parent.set(id, id);
  };
  for (const l of links) {
    add(l.anchorId);
    add(l.linkedId);
    const [a, b] = [find(l.anchorId), find(l.linkedId)];
    if (a !== b) parent.set(a, b);
  }
  // The deciding link of each set.
  const deciding = new Map<string, IdentityLink>();
  for (const l of links) {
    if (l.anchorId === l.linkedId) continue;
    const root = find(l.anchorId);
    const best = deciding.get(root);
    if (!best || compareLinks(l, best) < 0) deciding.set(root, l);
  }
  const out = new Map<string, string>();
  for (const id of parent.keys()) {
    const link = deciding.get(find(id));
    out.set(id, link ? link.anchorId : id);
  }
  return out;
}
