// What the page (app.js) and the service worker (sw.js, for Background Sync) share: the IndexedDB where each
// woman's account (her token) and queue of events are kept (a worker cannot read localStorage; only which of
// them is using the page is kept there), "sólo con wifi", and sending one woman's queue, never by two at once.
"use strict";
const QUEUE_API = "/api/v1";
const SYNC_TAG = "caminos-avance";

// --- IndexedDB ------------------------------------------------------------------------------------------------
let dbPromise = null;
function db() {
  dbPromise = dbPromise || new Promise((resolve, reject) => {
    const request = indexedDB.open("caminos", 1);
    request.onupgradeneeded = () => {
      const d = request.result;
      d.createObjectStore("accounts", {keyPath: "username"});
      d.createObjectStore("modules", {keyPath: "key"});  // username-independent: one copy per phone
      d.createObjectStore("partials", {keyPath: "key"});
      d.createObjectStore("settings", {keyPath: "key"});
      const events = d.createObjectStore("events", {keyPath: "event_id"});
      events.createIndex("username", "username");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return dbPromise;
}
async function tx(store, mode, work) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(store, mode);
    const result = work(t.objectStore(store));
    t.oncomplete = () => resolve(result && "result" in result ? result.result : result);
    t.onerror = () => reject(t.error);
  });
}
const get = (store, key) => tx(store, "readonly", (s) => s.get(key));
const all = (store) => tx(store, "readonly", (s) => s.getAll());
const put = (store, value) => tx(store, "readwrite", (s) => s.put(value));
const remove = (store, key) => tx(store, "readwrite", (s) => s.delete(key));
const eventsOf = (username) => tx("events", "readonly", (s) => s.index("username").getAll(username));


// "sólo con wifi" and the browser says she is on mobile data (where it does not tell, nothing is held)
async function heldForWifi() {
  const connection = self.navigator.connection;
  const offWifi = Boolean(connection && connection.type && !["wifi", "ethernet"].includes(connection.type));
  return offWifi && await setting("solo-wifi", false);
}
async function setting(key, fallback) { const row = await get("settings", key); return row ? row.value : fallback; }

// --- sending a queue ------------------------------------------------------------------------------------------
// One sender per woman's queue, page or worker: the second waits, then finds what the first sent already cleared,
// so the count she sees never counts an event twice. Web Locks where the browser has them, else a lease in
// IndexedDB (taken in one transaction; it lapses on its own if its holder dies mid-send).
const LEASE_MS = 60000;
async function withQueueLock(username, work) {
  if (self.navigator.locks) return self.navigator.locks.request(`caminos-cola-${username}`, work);
  const key = `envio-${username}`;
  const me = crypto.randomUUID();
  for (;;) {
    const taken = await tx("settings", "readwrite", (s) => {
      const box = {taken: false};
      s.get(key).onsuccess = (event) => {
        const lease = event.target.result;
        if (lease && lease.until > Date.now()) return;
        s.put({key, owner: me, until: Date.now() + LEASE_MS});
        box.taken = true;
      };
      return box;
    });
    if (taken.taken) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  try {
    return await work();
  } finally {
    await tx("settings", "readwrite", (s) => {
      s.get(key).onsuccess = (event) => {
        if (event.target.result && event.target.result.owner === me) s.delete(key);
      };
    });
  }
}
class Unauthorized extends Error {}
// Her pending events to the server with her token: accepted or duplicate are cleared (kept as synced, for the
// quiz results), rejected or conflict kept and shown, and on 401 all stay (she logs in again). Returns how many
// were sent; throws Unauthorized on 401 and anything else (no connection, a 5xx) as it comes.
async function sendPending(account) {
  const queued = (await eventsOf(account.username)).filter((e) => e.status === "pending");
  for (let i = 0; i < queued.length; i += 500) {
    const batch = queued.slice(i, i + 500);
    const response = await fetch(QUEUE_API + "/progress/events", {method: "POST", headers: {
      "Accept-Language": "es", "Content-Type": "application/json", Authorization: "Bearer " + account.token},
      body: JSON.stringify({device_id: account.device_id, events: batch.map((e) => e.event)})});
    if (response.status === 401) throw new Unauthorized("Su sesión terminó: ingrese de nuevo.");
    if (!response.ok) throw Object.assign(new Error(`El servidor respondió ${response.status}`), {server: true});
    const byId = Object.fromEntries(batch.map((e) => [e.event.event_id, e]));
    for (const result of (await response.json()).results) {
      const row = byId[result.event_id];
      if (!row) continue;
      if (result.status === "accepted" || result.status === "duplicate") {
        await put("events", {...row, status: "synced", score: result.score, passed: result.passed});
      } else {  // rejected or conflict: kept and shown, never silently dropped
        await put("events", {...row, status: result.status, reason: result.detail || result.reason});
      }
    }
  }
  return queued.length;
}
