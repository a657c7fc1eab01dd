"""Background Sync in headless Chromium: what she did offline is queued, the page registers a one-off sync, and
when the connection is back the browser wakes the service worker, which sends her queue with her token from
IndexedDB, with no page sending anything (it is offline, or closed). The sync event is dispatched through the
DevTools protocol, as Chrome would when the signal returns."""

from typing import Any

from tests.browser.reader_kit import (
    Shelf,
    download,
    holding_it_offline,
    live_server,
    log_in,
    offline,
    open_reader,
    pending,
    phone,
    port_of,
    queued,
    shelf,
    slow_answer,
    study_first_lesson,
)

__all__ = ["phone", "shelf"]  # fixtures
TAG = "caminos-avance"


def sync_tags(page: Any) -> list[str]:
    tags: list[str] = page.evaluate("async () => (await navigator.serviceWorker.ready).sync.getTags()")
    return tags


def dispatch_sync(page: Any, base_url: str) -> None:
    """What the browser does when the connection is back: the reader's worker gets its 'sync' event."""
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")

    def ours() -> list[dict[str, Any]]:
        return [r for r in registrations if r["scopeURL"] == f"{base_url}/aprender/" and not r["isDeleted"]]

    wait_until(page, lambda: bool(ours()))
    cdp.send("ServiceWorker.dispatchSyncEvent", {"origin": base_url, "registrationId": ours()[0]["registrationId"],
                                                 "tag": TAG, "lastChance": False})
    cdp.detach()


def wait_until(page: Any, check: Any, seconds: float = 15) -> None:
    for _ in range(int(seconds * 10)):
        if check():
            return
        page.wait_for_timeout(100)
    assert check()


def test_the_worker_sends_her_queue_and_the_open_page_counts_it(shelf: Shelf, phone: Any) -> None:
    woman = shelf.factory.participant("PE")
    with live_server(shelf.settings) as api:
        page = open_reader(phone, api)
        log_in(page, woman)
        download(page, shelf.module.slug)
        port = port_of(api)
    # the phone has a signal but the server cannot be reached: her page tries, fails, and leaves it to the
    # browser; navigator.onLine never changes, so the page has no reason to try again by itself
    study_first_lesson(page, shelf.module.slug)
    page.get_by_text("Sin conexión: su avance queda guardado").wait_for()
    pending(page, 2)
    assert TAG in sync_tags(page)
    posts: list[str] = []
    senders: list[str] = []
    phone.on("request", lambda request: request.method == "POST" and request.url.endswith("/progress/events")
             and senders.append("worker" if request.service_worker else "page"))
    with live_server(shelf.settings, port=port, wrap=slow_answer("/api/v1/progress/events", 0, posts)) as api:
        dispatch_sync(page, api)
        wait_until(page, lambda: shelf.events_of(woman) == 2)
        page.get_by_text("por enviar").wait_for(state="detached", timeout=15_000)  # no reload
        assert posts == ["POST"]  # one sender
        assert senders == ["worker"]
        assert [row["status"] for row in queued(page, woman.username)] == ["synced", "synced"]
        # a second wake-up (Chrome retries) sends nothing again
        dispatch_sync(page, api)
        page.wait_for_timeout(1000)
        assert posts == ["POST"]
        assert senders == ["worker"]
        assert shelf.events_of(woman) == 2
    assert page.errors == []


def test_with_the_reader_closed_her_queue_still_goes_exactly_once(shelf: Shelf, phone: Any) -> None:
    woman, page, port = holding_it_offline(shelf, phone)
    study_first_lesson(page, shelf.module.slug)
    pending(page, 2)
    assert TAG in sync_tags(page)
    page.close()  # she closes the reader; the signal comes back later
    posts: list[str] = []
    with live_server(shelf.settings, port=port, wrap=slow_answer("/api/v1/progress/events", 0, posts)) as api:
        phone.set_offline(False)  # Chrome holds sync events while it is offline
        other = phone.new_page()  # only to reach the browser's DevTools; not the reader
        dispatch_sync(other, api)
        wait_until(other, lambda: shelf.events_of(woman) == 2)
        assert posts == ["POST"]
        other.close()
        reader = open_reader(phone, api)
        reader.locator("#modulos").wait_for()
        reader.wait_for_timeout(1000)
        assert reader.get_by_text("por enviar").count() == 0
        assert posts == ["POST"]  # opening it found nothing left to send
        assert [row["status"] for row in queued(reader, woman.username)] == ["synced", "synced"]
        assert shelf.events_of(woman) == 2
    assert reader.errors == []


NO_WEB_LOCKS = "Object.defineProperty(Navigator.prototype, 'locks', {get: () => undefined});"
OVERLAP = """async () => {
  const seen = [];
  const sender = (name) => withQueueLock("maria", async () => {
    seen.push(name + " empieza");
    await new Promise((resolve) => setTimeout(resolve, 300));
    seen.push(name + " termina");
  });
  await Promise.all([sender("página"), sender("worker")]);
  return {seen, lease: await get("settings", "envio-maria")};
}"""


def test_without_web_locks_an_indexeddb_lease_keeps_one_sender_at_a_time(shelf: Shelf, phone: Any) -> None:
    """Older browsers: the second sender waits for the first's lease, which is given back afterwards."""
    phone.add_init_script(NO_WEB_LOCKS)
    with live_server(shelf.settings) as api:
        page = open_reader(phone, api)
        page.locator("#ingreso").wait_for()
        assert page.evaluate("() => navigator.locks === undefined")
        outcome = page.evaluate(OVERLAP)
    first, second = outcome["seen"][0].split()[0], outcome["seen"][2].split()[0]
    assert outcome["seen"] == [f"{first} empieza", f"{first} termina", f"{second} empieza", f"{second} termina"]
    assert {first, second} == {"página", "worker"}
    assert outcome["lease"] is None
    assert page.errors == []


def test_the_worker_sends_each_womans_queue_on_a_shared_phone_with_her_own_token(shelf: Shelf, phone: Any) -> None:
    ana, rosa = shelf.factory.participant("PE"), shelf.factory.participant("PE")
    slug = shelf.module.slug
    with live_server(shelf.settings) as api:
        page = open_reader(phone, api)
        log_in(page, ana)
        download(page, slug)
        page.click("#cambiar")
        log_in(page, rosa)
    offline(phone, page)
    study_first_lesson(page, slug)
    pending(page, 2)
    page.click("#cambiar")
    page.get_by_role("button", name=ana.username).click()
    page.locator("#modulos").wait_for()
    study_first_lesson(page, slug)
    pending(page, 2)
    page.close()
    posts: list[str] = []
    with live_server(shelf.settings, port=port_of(api), wrap=slow_answer("/api/v1/progress/events", 0, posts)) as api:
        phone.set_offline(False)
        other = phone.new_page()
        dispatch_sync(other, api)
        wait_until(other, lambda: (shelf.events_of(ana), shelf.events_of(rosa)) == (2, 2))
        assert posts == ["POST", "POST"]  # one per woman, each credited to herself
