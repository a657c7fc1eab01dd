// Caminos de Saberes, the offline reader. Plain JavaScript, no libraries: IndexedDB holds the accounts (several
// women may share a phone, each with her own token and queue), the saved modules and the progress events; the
// Cache API holds the modules' files, which sw.js serves with no connection.
"use strict";
const API = "/api/v1";
const PACKAGES = "caminos-paquetes";
const $ = (id) => document.getElementById(id);
const state = {user: null, module: null, lesson: null, openedAt: 0, syncing: false, told: new Set()};
// a message written for her, in Spanish; any other error (a cut connection: "Failed to fetch") is not shown as is
class Aviso extends Error {}
const told = (error, fallback) => error instanceof Aviso ? error.message : fallback;

// --- small helpers --------------------------------------------------------------------------------------------
function say(text) { $("estado").textContent = text; }
function show(id) {
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== id;
  window.scrollTo(0, 0);
}
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== false && value !== undefined) node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children);
  return node;
}
const size = (bytes) => bytes < 102400 ? `${Math.max(1, Math.round(bytes / 1024))} KB`
  : `${(bytes / 1048576).toLocaleString("es", {maximumFractionDigits: 1, minimumFractionDigits: 1})} MB`;
const minutes = (seconds) => Math.max(1, Math.round(seconds / 60));
async function sha256(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
// the reader is in Spanish, whatever language the phone is set to: so are the server's messages it shows
const SPANISH = {"Accept-Language": "es"};
function authHeaders() { return state.user ? {...SPANISH, Authorization: "Bearer " + state.user.token} : SPANISH; }
async function api(path, options = {}) {
  const response = await fetch(API + path, {...options, headers: {...authHeaders(), ...(options.headers || {})}});
  if (response.status === 401) throw Object.assign(new Aviso("Su sesión terminó: ingrese de nuevo."), {status: 401});
  return response;
}

// --- accounts -------------------------------------------------------------------------------------------------
async function login(username, password) {
  const body = new URLSearchParams({username, password});
  const response = await fetch(API + "/auth/token", {method: "POST", body, headers: SPANISH});
  if (!response.ok) throw new Aviso((await response.json()).detail || "No se pudo ingresar.");
  const token = (await response.json()).access_token;
  const me = await (await fetch(API + "/me", {headers: {...SPANISH, Authorization: "Bearer " + token}})).json();
  const previous = await get("accounts", me.username);
  const account = {username: me.username, name: me.full_name, token,
                   device_id: previous ? previous.device_id : crypto.randomUUID()};
  await put("accounts", account);
  localStorage.setItem("caminos-actual", account.username);
  state.user = account;
}
async function start() {
  const username = localStorage.getItem("caminos-actual");
  state.user = username ? await get("accounts", username) : null;
  if (!state.user) return showLogin();
  $("quien").textContent = state.user.name || state.user.username;
  $("solo-wifi").checked = await setting("solo-wifi", false);
  show("modulos");
  await renderModules();
  sync();
}
async function showLogin(username = "") {
  const accounts = await all("accounts");
  const list = $("cuentas");
  list.replaceChildren();
  if (accounts.length) list.append(el("h2", {}, "Participantes en este teléfono"));
  for (const account of accounts) {
    list.append(el("button", {type: "button", class: "secundario", onclick: () => {
      localStorage.setItem("caminos-actual", account.username);
      say("");  // what was said to the one before is not hers
      start();
    }}, account.name || account.username,  // two women of the same name on one phone: her username tells
    account.name ? el("small", {}, ` (${account.username})`) : ""));
  }
  $("form-ingreso").elements.username.value = username;
  show("ingreso");
}
// weeks offline, and her token expired: what she did stays queued, she logs in again and it is sent then
function askLoginAgain() {
  const username = state.user.username;
  say("Su sesión terminó: ingrese de nuevo para enviar su avance (queda guardado en el teléfono).");
  leave();
  showLogin(username);
}
// her notices (what she has to send, her quiz results) leave the screen with her: on a shared phone the next
// woman must not see them, not even for the moment before her own are counted
function leave() {
  state.user = null;
  state.told = new Set();
  $("pendientes").replaceChildren();
}

// --- zips -----------------------------------------------------------------------------------------------------
async function inflate(data) {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
async function unzip(buffer) {
  const view = new DataView(buffer);
  let end = buffer.byteLength - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new Aviso("El archivo no es un módulo (no es un zip).");
  const files = {};
  let at = view.getUint32(end + 16, true);
  for (let i = view.getUint16(end + 10, true); i > 0; i--) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Aviso("El zip está dañado.");
    const method = view.getUint16(at + 10, true), size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true), extra = view.getUint16(at + 30, true);
    const comment = view.getUint16(at + 32, true), offset = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(new Uint8Array(buffer, at + 46, nameLength));
    const start = offset + 30 + view.getUint16(offset + 26, true) + view.getUint16(offset + 28, true);
    const data = new Uint8Array(buffer, start, size);
    files[name] = method === 0 ? data.slice() : await inflate(data);
    at += 46 + nameLength + extra + comment;
  }
  return files;
}
const TYPES = {html: "text/html; charset=utf-8", json: "application/json", svg: "image/svg+xml", webp: "image/webp",
               png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", opus: "audio/ogg", ogg: "audio/ogg"};
async function install(files) {
  if (!files["manifest.json"]) throw new Aviso("Al zip le falta manifest.json: no es un módulo.");
  const manifest = JSON.parse(new TextDecoder().decode(files["manifest.json"]));
  for (const file of manifest.files) {  // every file exactly as the server built it
    const data = files[file.path];
    if (!data || data.length !== file.bytes || await sha256(data) !== file.sha256) {
      throw new Aviso(`El archivo ${file.path} está dañado o incompleto; descargue el módulo de nuevo.`);
    }
  }
  const cache = await caches.open(PACKAGES);
  const base = `/aprender/paquete/${manifest.module}/`;
  for (const file of manifest.files) {
    const type = TYPES[file.path.split(".").pop()] || "application/octet-stream";
    await cache.put(base + file.path, new Response(files[file.path], {headers: {"Content-Type": type}}));
  }
  const previous = await get("modules", manifest.module);
  const kept = new Set(manifest.files.map((f) => f.path));
  for (const file of previous ? previous.manifest.files : []) {  // an older version's files it no longer has
    if (!kept.has(file.path)) await cache.delete(base + file.path);
  }
  const module = JSON.parse(new TextDecoder().decode(files["module.json"]));
  await put("modules", {key: manifest.module, version: manifest.version, tier: manifest.tier, manifest, module,
                        bytes: manifest.files.reduce((sum, f) => sum + f.bytes, 0)});
  return module;
}

// --- download: resumable, with progress -----------------------------------------------------------------------
async function download(slug, tier, meter, have) {
  if (await heldForWifi()) throw new Aviso("Activó «sólo con wifi»: conéctese a un wifi para descargar.");
  if (have) return update(slug, tier, have, meter);
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist();  // never evicted under pressure
  const info = await (await api(`/modules/${slug}/offline`)).json();
  const target = info.tiers.find((t) => t.tier === tier);
  const etag = `"${target.sha256}"`;
  const key = `${slug}/${tier}`;
  let partial = await get("partials", key);
  if (!partial || partial.etag !== etag) partial = {key, etag, blob: new Blob([])};
  while (partial.blob.size < target.bytes) {
    const headers = partial.blob.size ? {Range: `bytes=${partial.blob.size}-`, "If-Range": etag} : {};
    const response = await api(`/modules/${slug}/offline/${tier}.zip`, {headers});
    if (response.status === 200) partial.blob = new Blob([]);  // another version: start over
    else if (response.status !== 206) throw new Aviso("El servidor no entregó el módulo; intente más tarde.");
    const reader = response.body.getReader();
    let pending = [], pendingBytes = 0;
    try {
      for (;;) {
        const {done, value} = await reader.read();
        if (done) break;
        pending.push(value);
        pendingBytes += value.length;
        meter.value = (partial.blob.size + pendingBytes) / target.bytes;
        if (pendingBytes > 65536) {  // keep what arrived: a cut connection resumes from here
          partial.blob = new Blob([partial.blob, ...pending]);
          pending = []; pendingBytes = 0;
          await put("partials", partial);
        }
      }
    } finally {
      partial.blob = new Blob([partial.blob, ...pending]);
      await put("partials", partial);
    }
  }
  const buffer = await partial.blob.arrayBuffer();
  if (await sha256(buffer) !== target.sha256) {
    await remove("partials", key);
    throw new Aviso("La descarga llegó dañada; toque Descargar para intentarlo de nuevo.");
  }
  await install(await unzip(buffer));
  await remove("partials", key);
}
// a new version of a module she holds: the new manifest says which files it has; those whose sha256 she already
// holds (under any path) come from the cache, only the others from the server, one by one by their hash
async function update(slug, tier, have, meter) {
  const response = await api(`/modules/${slug}/offline/${tier}/manifest`);
  if (!response.ok) throw new Aviso("El servidor no entregó el módulo; intente más tarde.");
  const manifestBytes = new Uint8Array(await response.arrayBuffer());
  const manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  const cache = await caches.open(PACKAGES);
  const held = new Map(have.manifest.files.map((f) => [f.sha256, `/aprender/paquete/${slug}/${f.path}`]));
  const lacking = manifest.files.filter((f) => !held.has(f.sha256)).reduce((sum, f) => sum + f.bytes, 0);
  const files = {"manifest.json": manifestBytes};
  let fetched = 0;
  for (const file of manifest.files) {
    const cached = held.has(file.sha256) && await cache.match(held.get(file.sha256));
    if (cached) {
      files[file.path] = new Uint8Array(await cached.arrayBuffer());
      continue;
    }
    const blob = await fetch(`${API}/blobs/${file.sha256}`);
    if (!blob.ok) throw new Aviso("El servidor no entregó el módulo; intente más tarde.");
    files[file.path] = new Uint8Array(await blob.arrayBuffer());
    fetched += file.bytes;
    meter.value = lacking ? Math.min(1, fetched / lacking) : 1;
  }
  await install(files);  // checks every file's sha256 against the new manifest before using any
}

// --- modules --------------------------------------------------------------------------------------------------
async function renderModules() {
  const saved = Object.fromEntries((await all("modules")).map((m) => [m.key, m]));
  const list = $("lista");
  list.replaceChildren();
  let catalogue = [];
  try {
    catalogue = await (await fetch(API + "/modules")).json();
  } catch (error) {
    catalogue = Object.values(saved).map((m) => ({slug: m.key, title: m.module.title}));
  }
  for (const entry of catalogue) {
    const item = el("li", {"data-modulo": entry.slug}, el("h3", {}, entry.title));
    const have = saved[entry.slug];
    if (have) {
      item.append(el("p", {class: "hecho"}, `Guardado en el teléfono (${size(have.bytes)})`),
                  el("button", {type: "button", onclick: () => openModule(entry.slug)}, "Estudiar"));
    }
    if (navigator.onLine && state.user) offerDownload(item, entry, have);
    list.append(item);
  }
}
async function offerDownload(item, entry, have) {
  let info;
  try {
    const response = await api(`/modules/${entry.slug}/offline`);
    if (!response.ok) return;
    info = await response.json();
  } catch (error) { return; }
  if (have && have.version === info.version) return;
  if (have) for (const tier of info.tiers) tier.recommended = tier.tier === have.tier;  // keep what she chose
  const select = el("select", {"aria-label": "Tamaño de la descarga"});
  const names = {text: "Sólo texto", light: "Texto e imágenes", full: "Con imágenes y audio"};
  for (const tier of info.tiers) {
    select.append(el("option", {value: tier.tier, selected: tier.recommended},
      `${names[tier.tier]}: ${size(tier.bytes)}, unos ${minutes(tier.estimated_seconds)} min`));
  }
  const meter = el("progress", {max: 1, value: 0, hidden: true});
  const button = el("button", {type: "button", onclick: async () => {
    button.disabled = true; meter.hidden = false;
    try {
      await download(entry.slug, select.value, meter, have);
      say(have ? "Módulo actualizado: ya puede estudiar sin conexión." : "Módulo guardado: ya puede estudiar sin conexión.");
      await renderModules();
    } catch (error) {
      button.disabled = false;
      if (error.status === 401) return askLoginAgain();
      say(told(error, "Se cortó la descarga; toque Descargar para continuar donde quedó."));
    }
  }}, have ? "Actualizar el módulo" : "Descargar para estudiar sin conexión");
  item.append(el("p", {class: "peso"}, have ? "Hay una versión nueva." : ""), select, button, meter);
}
async function openModule(slug) {
  const saved = await get("modules", slug);
  state.module = saved;
  $("modulo-titulo").textContent = saved.module.title;
  const done = new Set((await eventsOf(state.user.username))
    .filter((e) => e.event.module === slug && e.event.type === "lesson_completed").map((e) => e.event.lesson));
  const list = $("lecciones");
  list.replaceChildren();
  for (const lesson of saved.module.lessons) {
    list.append(el("li", {}, el("h3", {}, lesson.title),
      el("p", {class: "peso"}, `${lesson.estimated_minutes} min${done.has(lesson.slug) ? " · terminada" : ""}`),
      el("button", {type: "button", onclick: () => openLesson(lesson)}, "Leer")));
  }
  show("modulo");
}
async function packageFile(path) {
  const response = await fetch(`/aprender/paquete/${state.module.key}/${path}`);
  if (!response.ok) throw new Aviso("Falta un archivo del módulo; descárguelo de nuevo.");
  return response;
}
async function openLesson(lesson) {
  state.lesson = lesson;
  state.openedAt = Date.now();
  $("leccion-titulo").textContent = lesson.title;
  const html = await (await packageFile(lesson.html)).text();
  // the lesson's pictures are files of the package, which the service worker serves from the cache
  const base = `/aprender/paquete/${state.module.key}/`;
  const doc = new DOMParser().parseFromString(html, "text/html");
  for (const image of doc.querySelectorAll("img[src]")) {
    image.setAttribute("src", new URL(image.getAttribute("src"), location.origin + base + lesson.html).pathname);
  }
  $("leccion-texto").replaceChildren(...doc.body.childNodes);
  const audio = $("narracion");
  audio.hidden = !lesson.audio;
  if (lesson.audio) audio.src = base + lesson.audio; else audio.removeAttribute("src");
  const form = $("cuestionario");
  form.replaceChildren();
  form.hidden = !lesson.quiz;
  $("cuestionario-aviso").textContent = "";
  if (lesson.quiz) {
    const quiz = await (await packageFile(lesson.quiz)).json();
    for (const question of quiz.questions) {
      const set = el("fieldset", {}, el("legend", {}, question.prompt));
      const kind = question.kind === "multiple" ? "checkbox" : "radio";
      for (const option of question.options) {
        set.append(el("label", {class: "opcion"},
          el("input", {type: kind, name: question.id, value: option.id}), option.text));
      }
      form.append(set);
    }
    form.append(el("button", {type: "submit"}, "Enviar respuestas"));
  }
  show("leccion");
}
async function record(type, payload) {
  const event = {event_id: crypto.randomUUID(), type, module: state.module.key, module_version: state.module.version,
                 lesson: state.lesson.slug, occurred_at: new Date().toISOString(), payload};
  await put("events", {event_id: event.event_id, username: state.user.username, event, status: "pending"});
  return event;
}

// --- sync -----------------------------------------------------------------------------------------------------
async function sync() {
  if (!state.user || state.syncing) return renderPending();
  const hasPending = async () => (await eventsOf(state.user.username)).some((e) => e.status === "pending");
  if (!navigator.onLine) {
    if (await hasPending()) sendLater();
    return renderPending();
  }
  if (await heldForWifi()) {
    if (await hasPending()) say("Activó «sólo con wifi»: su avance se enviará cuando esté en un wifi.");
    return renderPending();
  }
  state.syncing = true;
  const user = state.user;
  try {
    const sent = await withQueueLock(user.username, () => sendPending(user));
    state.syncing = false;
    await renderPending();  // her counts first, then the word that they went
    if (sent) say("Avance enviado.");  // nothing sent: the message on screen stays
    return undefined;
  } catch (error) {
    if (error instanceof Unauthorized) {
      state.syncing = false;
      return askLoginAgain();
    }
    say(error.server ? "El servidor no recibió el avance; se intentará más tarde."
      : "Sin conexión: su avance queda guardado en el teléfono.");
    sendLater();
  } finally {
    state.syncing = false;
  }
  return renderPending();
}
// Background Sync (Chrome on Android, Samsung Internet): the browser wakes sw.js when the connection is back,
// even with the reader closed. Where it is missing, the page sends on opening, on "online" and when visible.
async function sendLater() {
  if (!("serviceWorker" in navigator)) return;
  try {
    const registration = await navigator.serviceWorker.ready;
    if (registration.sync) await registration.sync.register(SYNC_TAG);
  } catch (error) {  // refused (a setting of the browser): the page's own triggers remain
  }
}
async function renderPending() {
  if (!state.user) return;
  const rows = await eventsOf(state.user.username);
  const titles = {};  // her lessons by their titles, not their slugs
  for (const saved of await all("modules")) for (const l of saved.module.lessons) titles[l.slug] = l.title;
  const title = (event) => titles[event.lesson] || event.lesson;
  const box = $("pendientes");
  box.replaceChildren();
  const pending = rows.filter((e) => e.status === "pending").length;
  if (pending) box.append(el("p", {class: "aviso"}, `${pending} avance(s) por enviar: se enviarán al conectarse.`));
  for (const row of rows.filter((e) => e.status === "rejected" || e.status === "conflict")) {
    box.append(el("p", {class: "aviso rechazado"},
      `No se pudo registrar «${title(row.event)}» (${row.reason || row.status}); consulte a su coordinadora.`));
  }
  // a result is told once (marked shown), but stays on screen while she is here: the page and the worker may
  // both redraw the counts, and the second redraw must not wipe what the first told
  for (const row of rows.filter((e) => e.status === "synced" && e.event.type === "quiz_submitted")) {
    if (row.shown && !state.told.has(row.event_id)) continue;
    state.told.add(row.event_id);
    box.append(el("p", {class: "aviso"}, `Cuestionario «${title(row.event)}»: ` +
      (row.passed ? "¡aprobado!" : "no aprobado todavía, puede intentarlo de nuevo.")));
    if (!row.shown) await put("events", {...row, shown: true});
  }
}

// --- export and open a saved module ---------------------------------------------------------------------------
async function exportProgress() {
  const rows = await eventsOf(state.user.username);
  const data = {format_version: 1, username: state.user.username, device_id: state.user.device_id,
                exported_at: new Date().toISOString(), events: rows.map((row) => row.event)};
  const link = el("a", {href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 1)],
                                                          {type: "application/json"})), download: "progreso.json"});
  document.body.append(link);
  link.click();
  link.remove();
}
async function openSavedZip(file) {
  try {
    const module = await install(await unzip(await file.arrayBuffer()));
    say(`Módulo «${module.title}» abierto y revisado: todos sus archivos están completos.`);
    await renderModules();
  } catch (error) {
    say(told(error, "No se pudo abrir el archivo."));
  }
}

// --- wiring ---------------------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/aprender/sw.js", {scope: "/aprender/"});
  $("form-ingreso").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      await login(form.get("username").trim(), form.get("password"));
      event.target.reset();
      await start();
    } catch (error) { say(told(error, "Sin conexión: para ingresar por primera vez necesita internet.")); }
  });
  $("form-activar").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      const response = await fetch(API + "/auth/activate", {method: "POST",
        headers: {...SPANISH, "Content-Type": "application/json"},
        body: JSON.stringify({code: form.get("code").trim(), password: form.get("password")})});
      const body = await response.json();
      if (!response.ok) return say(body.detail || "No se pudo activar la cuenta.");
      await login(body.username, form.get("password"));
      event.target.reset();
      say("Cuenta activada.");
      await start();
    } catch (error) { say(told(error, "Sin conexión: para activar su cuenta necesita internet.")); }
  });
  $("cambiar").addEventListener("click", () => {
    localStorage.removeItem("caminos-actual");
    leave();
    say("");
    showLogin();
  });
  $("solo-wifi").addEventListener("change", async (event) => {
    await put("settings", {key: "solo-wifi", value: event.target.checked});
    if (!event.target.checked) sync();  // what the setting held goes now
  });
  $("abrir-zip").addEventListener("change", (event) => event.target.files[0] && openSavedZip(event.target.files[0]));
  $("exportar").addEventListener("click", exportProgress);
  for (const button of document.querySelectorAll(".volver")) button.addEventListener("click", () => start());
  for (const button of document.querySelectorAll(".volver-modulo")) {
    button.addEventListener("click", () => openModule(state.module.key));
  }
  $("terminar").addEventListener("click", async () => {
    await record("lesson_viewed", {seconds: Math.round((Date.now() - state.openedAt) / 1000)});
    await record("lesson_completed", {});
    say("Lección terminada.");
    await sync();
    await openModule(state.module.key);
  });
  $("cuestionario").addEventListener("submit", async (event) => {
    event.preventDefault();
    const answers = {};
    for (const input of event.target.querySelectorAll("input:checked")) {
      (answers[input.name] = answers[input.name] || []).push(input.value);
    }
    await record("quiz_submitted", {answers});
    $("cuestionario-aviso").textContent = "Respuestas guardadas: se calificará al conectarte.";
    sync();
  });
  window.addEventListener("online", sync);
  // the worker sent a queue: her counts from IndexedDB again, not a send of her own
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (!event.data || event.data.type !== "avance-enviado") return;
      renderPending().then(() => state.user && event.data.sent[state.user.username] && say("Avance enviado."));
    });
  }
  // on Wi-Fi again (Android Chrome tells): what "sólo con wifi" held goes now
  if (navigator.connection && navigator.connection.addEventListener) navigator.connection.addEventListener("change", sync);
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && sync());
  start();
});
