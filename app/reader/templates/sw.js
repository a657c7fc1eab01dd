// The reader's service worker: the shell from its cache (so /aprender/ opens with no connection), the modules'
// files from the cache the page filled when it unpacked a zip (with Range, which <audio> asks for). The API is
// never cached here. With Background Sync it sends the women's queues (queue.js, shared with the page) when the
// connection is back, even with the reader closed.
"use strict";
importScripts("{{ base }}queue.js");
const SHELL = "caminos-shell-{{ version }}";
const PACKAGES = "caminos-paquetes";
const FILES = {{ files }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(names
    .filter((name) => name.startsWith("caminos-shell-") && name !== SHELL)
    .map((name) => caches.delete(name)))).then(() => self.clients.claim()));
});

async function fromPackages(request) {
  const cache = await caches.open(PACKAGES);
  const found = await cache.match(request.url);
  if (!found) return new Response("No está guardado en este teléfono.", {status: 404});
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get("Range") || "");
  if (!range) return found;
  const blob = await found.blob();
  const start = Number(range[1]);
  const end = range[2] ? Math.min(Number(range[2]), blob.size - 1) : blob.size - 1;
  if (start >= blob.size) {
    return new Response("", {status: 416, headers: {"Content-Range": `bytes */${blob.size}`}});
  }
  return new Response(blob.slice(start, end + 1), {status: 206, headers: {
    "Content-Type": found.headers.get("Content-Type") || "application/octet-stream",
    "Content-Range": `bytes ${start}-${end}/${blob.size}`, "Content-Length": String(end - start + 1)}});
}

async function shell(request) {
  const cache = await caches.open(SHELL);
  const key = new URL(request.url).pathname === "/aprender" ? "/aprender/" : request;
  const cached = await cache.match(key, {ignoreSearch: true});
  // the cached copy at once (2G is slow, or there is none); a fresh one for next time when the network answers
  const fresh = fetch(request).then((response) => {
    if (response.ok) cache.put(key, response.clone());
    return response;
  }).catch(() => undefined);
  return cached || (await fresh) || new Response("Sin conexión.", {status: 503});
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || event.request.method !== "GET") return;
  if (url.pathname.startsWith("/aprender/paquete/")) event.respondWith(fromPackages(event.request));
  else if (FILES.includes(url.pathname) || url.pathname === "/aprender") event.respondWith(shell(event.request));
});

// every woman's queue on this phone, each with her own token; one whose token expired keeps hers (she is asked to
// log in again when she opens the reader); a failure makes the browser try again later
async function sendEveryQueue() {
  if (await heldForWifi()) return;
  let failed = null;
  const sent = {};
  for (const account of await all("accounts")) {
    try {
      sent[account.username] = await withQueueLock(account.username, () => sendPending(account));
    } catch (error) {
      if (!(error instanceof Unauthorized)) failed = error;
    }
  }
  for (const page of await self.clients.matchAll({type: "window"})) page.postMessage({type: "avance-enviado", sent});
  if (failed) throw failed;
}

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(sendEveryQueue());
});
