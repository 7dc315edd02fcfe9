/** What this browser keeps about its Device Key for one account (DESIGN §4.11). */
export interface DeviceRecord {
  /** The account this device key belongs to: one browser may be used by several people. */
  userId: string;
  /** The server's id for this device, once registered. */
  deviceId: string | null;
  /** ECDSA P-256, private half non-extractable: proves "this browser" when a new session attaches. */
  signing: CryptoKeyPair;
  /** AES-GCM-256, non-extractable: wraps the AUK into this device's Credential Bundle. */
  wrapping: CryptoKey;
}

const DB_NAME = "countersign-device";
const STORE = "devices";

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(STORE, { keyPath: "userId" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      // Resolve on the transaction's completion, so a write is durable before the caller goes on.
      tx.oncomplete = () => resolve(request.result as T);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/**
 * The device record of `userId` in this browser, or null. CryptoKeys are stored as they are
 * (structured clone keeps them non-extractable), never as key material.
 */
export async function loadDeviceRecord(userId: string): Promise<DeviceRecord | null> {
  const found = await run<DeviceRecord | undefined>("readonly", (store) => store.get(userId));
  return found ?? null;
}

/** Stores (or replaces) the device record of its account. */
export async function saveDeviceRecord(record: DeviceRecord): Promise<void> {
  await run("readwrite", (store) => store.put(record));
}

/** Forgets the device record of `userId` (its device was revoked or is unknown to the server). */
export async function forgetDeviceRecord(userId: string): Promise<void> {
  await run("readwrite", (store) => store.delete(userId));
}
