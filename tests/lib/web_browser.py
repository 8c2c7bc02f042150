#!/usr/bin/env python3
"""web_browser.py -- dnsblweb in a real headless Chromium (Selenium)

Usage:
  web_browser.py BASE_URL RELAY UNLISTED FARMFILE SHOTDIR

  BASE_URL   dnsblweb, e.g. http://127.0.0.1:8080
  RELAY      an address proberd has listed (a farm host that relays)
  UNLISTED   an address that is not listed
  FARMFILE   the farm's FARMDIR/RELAY: "closed" is written there to fix
             the relay before the removal is asked for
  SHOTDIR    where the screenshots go (NN-name.png)

For web_browser.t, which counts the results: each check prints one line,
"PASS name" or "FAIL name", diagnostics "# ..." (shown as TAP comments).
Exit 0 when the script ran to its end (whatever the checks said), 1 when
something broke on the way (the browser, a page that never came); a
screenshot of where it was is taken then too.

Chromium runs with its profile in SHOTDIR/../chrome (the test's scratch
directory, so the test can find a browser left over by a script that
was killed).  SIGTERM quits the browser before exiting.
"""
import json
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import (NoAlertPresentException,
                                        TimeoutException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1280, 1000)
PHONE = (375, 800)
REMOVAL_WAIT = 60       # seconds for the removal page to say "Removed"


def out(line):
    print(line, flush=True)


def check(cond, name, *diag):
    out(("PASS " if cond else "FAIL ") + name)
    if not cond:
        for d in diag:
            for line in str(d).splitlines()[:30]:
                out("#   " + line)
    return cond


def chromium_binary():
    for path in ("/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if os.access(path, os.X_OK):
            return path
    return None


def start_browser(profile):
    opts = webdriver.ChromeOptions()
    binary = chromium_binary()
    if binary:
        opts.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run",
                "--disable-extensions", "--disable-background-networking",
                "--user-data-dir=" + profile,
                "--window-size=%d,%d" % DESKTOP):
        opts.add_argument(arg)
    # The performance log carries each response's status (Selenium has
    # no other way to see it).
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER),
                            options=opts)


class Browser:
    def __init__(self, driver, base, shotdir):
        self.d = driver
        self.base = base.rstrip("/")
        self.shotdir = shotdir
        self.nshot = 0

    def shot(self, name):
        self.nshot += 1
        path = os.path.join(self.shotdir, "%02d-%s.png" % (self.nshot, name))
        try:
            # The whole page, not just the window: widen the window's
            # height to the document's for the shot, then put it back.
            self.d.execute_script("window.scrollTo(0, 0)")
            size = self.d.get_window_size()
            full = self.d.execute_script(
                "return document.documentElement.scrollHeight")
            if full and full > size["height"]:
                self.d.set_window_size(size["width"], min(full + 120, 6000))
            ok = self.d.save_screenshot(path)
            self.d.set_window_size(size["width"], size["height"])
        except WebDriverException as e:
            out("# screenshot %s failed: %s" % (path, e.msg))
            return None
        out("# screenshot: %s" % path)
        return path if ok else None

    def get(self, path):
        self.d.get_log("performance")      # forget earlier responses
        self.d.get(self.base + path)

    def status(self, url_re):
        """The HTTP status of the last document response whose URL matches
        url_re, from the performance log (None if none)."""
        status = None
        for entry in self.d.get_log("performance"):
            try:
                msg = json.loads(entry["message"])["message"]
            except (KeyError, ValueError):
                continue
            p = msg.get("params", {})
            if p.get("type") != "Document":
                continue
            # A redirect is only seen as the next request's cause.
            if msg.get("method") == "Network.requestWillBeSent":
                r = p.get("redirectResponse")
            elif msg.get("method") == "Network.responseReceived":
                r = p.get("response")
            else:
                r = None
            if r and re.search(url_re, r.get("url", "")):
                status = r.get("status")
        return status

    def click(self, element):
        """Clicks element and waits for the page it leads to (a click
        does not wait for the navigation it starts)."""
        old = self.d.find_element(By.TAG_NAME, "html")
        element.click()
        WebDriverWait(self.d, 20).until(EC.staleness_of(old))
        WebDriverWait(self.d, 20).until(lambda d: d.execute_script(
            "return document.readyState") == "complete")

    def text(self, css="body"):
        return self.d.find_element(By.CSS_SELECTOR, css).text

    def dd(self, term):
        """The <dd> after the <dt> that says term, or None."""
        for dt in self.d.find_elements(By.CSS_SELECTOR, "dl dt"):
            if dt.text.strip() == term:
                return dt.find_element(By.XPATH,
                                       "following-sibling::dd[1]").text
        return None

    def no_alert(self):
        try:
            self.d.switch_to.alert
            return False
        except NoAlertPresentException:
            return True

    def fits(self):
        """(scrollWidth, innerWidth): no horizontal scrolling when the
        first is at most the second."""
        return tuple(self.d.execute_script(
            "return [document.documentElement.scrollWidth,"
            " window.innerWidth]"))

    def phone(self, name):
        """The page at a phone's width: no horizontal scrolling."""
        self.d.set_window_size(*PHONE)
        # The resize lands when the browser gets to it (later under load).
        try:
            WebDriverWait(self.d, 10).until(
                lambda d: self.fits()[1] <= PHONE[0])
        except TimeoutException:
            pass
        time.sleep(0.2)
        sw, iw = self.fits()
        check(iw <= PHONE[0] and sw <= iw,
              "%s: readable at %d px, no horizontal scrolling "
              "(scrollWidth %d, innerWidth %d)" % (name, PHONE[0], sw, iw),
              "wider than the window: the page scrolls sideways")
        # The header's links stay on the header (white on its dark blue;
        # on the page's background they cannot be read).
        out_of = self.d.execute_script(
            "var h = document.querySelector('header').getBoundingClientRect();"
            "var r = [];"
            "document.querySelectorAll('header a').forEach(function (a) {"
            "  var b = a.getBoundingClientRect();"
            "  if (b.top < h.top || b.bottom > h.bottom || b.left < h.left ||"
            "      b.right > h.right) r.push(a.textContent); });"
            "return r;")
        check(not out_of, "  its header's links inside the header",
              "outside: %r" % out_of)
        self.shot("phone-" + name)
        self.d.set_window_size(*DESKTOP)


def home_and_lookup(b, relay):
    b.get("/")
    check(b.status(r"/$") == 200, "GET /: 200")
    form = b.d.find_element(By.CSS_SELECTOR, "form[action='/lookup']")
    check(form.get_attribute("method").lower() == "get",
          "the home page has the lookup form (GET /lookup)")
    ip = b.d.find_element(By.ID, "ip")
    check(ip.get_attribute("value") == "127.0.0.1",
          "  filled in with the visitor's address (127.0.0.1)",
          "value: %r" % ip.get_attribute("value"))
    button = form.find_element(By.CSS_SELECTOR, "button[type=submit]")
    check(button.text == "Look up", "  with a \"Look up\" button",
          "button: %r" % button.text)
    b.shot("home")

    ip.clear()
    ip.send_keys(relay)
    b.click(button)
    url = b.d.current_url
    check(urllib.parse.urlsplit(url).path == "/lookup" and
          urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
          .get("ip") == [relay],
          "the form leads to /lookup?ip=%s" % relay, "url: " + url)
    check(b.status(r"/lookup\?") == 200, "  200")
    verdict = b.text(".verdict")
    check(re.search(re.escape(relay) + r" is listed \(127\.0\.0\.2:", verdict)
          is not None, "  says %s is listed, 127.0.0.2" % relay,
          "verdict: " + verdict)
    form_name = b.dd("Form that relayed")
    check(bool(form_name), "  shows \"Form that relayed\": %s" % form_name,
          b.text("main"))
    check(b.dd("Delivered to us by") == relay,
          "  and who delivered the cookie (%s)" % relay,
          "got: %r" % b.dd("Delivered to us by"))
    check(b.dd("Kind") == "relay", "  kind relay", "got: %r" % b.dd("Kind"))

    details = b.d.find_elements(By.CSS_SELECTOR, "details")
    summaries = [d.find_element(By.TAG_NAME, "summary").text for d in details]
    tr = [d for d in details if "SMTP conversation" in
          d.find_element(By.TAG_NAME, "summary").text]
    check(len(tr) == 1, "  the SMTP transcript is in a <details>",
          "summaries: %r" % summaries)
    if tr:
        pre = tr[0].find_element(By.TAG_NAME, "pre")
        t = pre.get_attribute("textContent")
        check(tr[0].get_attribute("open") is not None and pre.is_displayed(),
              "  open, shown")
        check("S: 220 open.farm.test ESMTP fake" in t,
              "  with the farm host's greeting (S: 220 open.farm.test)",
              t[:1500])
        check(re.search(r"C: (EHLO|HELO) ", t) is not None and
              re.search(r"C: RCPT TO:", t, re.I) is not None and
              "C: DATA" in t, "  and our side of it (EHLO, RCPT TO, DATA)",
              t[:1500])
    msg = [d for d in details if "test message" in
           d.find_element(By.TAG_NAME, "summary").text]
    check(len(msg) == 1, "  the message as received is in a <details>",
          "summaries: %r" % summaries)
    if msg:
        m = msg[0]
        pre = m.find_element(By.TAG_NAME, "pre")
        check(m.get_attribute("open") is None and not pre.is_displayed(),
              "  closed at first")
        m.find_element(By.TAG_NAME, "summary").click()
        t = pre.get_attribute("textContent")
        check(pre.is_displayed() and re.search(r"(?m)^Subject: ", t)
              is not None and "@probe.test" in t,
              "  a click opens it: the message (Subject, to @probe.test)",
              t[:1500])
        # Its CRLF line ends are line ends, not U+FFFD.
        check("\ufffd" not in t and "\r" not in t,
              "  its lines end cleanly (no U+FFFD for the CR of CRLF)",
              repr(t[:300]))
    buttons = [x for x in b.d.find_elements(
        By.CSS_SELECTOR, "form[action='/remove'] button")]
    check(len(buttons) == 1 and buttons[0].text == "Retest and remove",
          "  a \"Retest and remove\" button (POST /remove)",
          "buttons: %r" % [x.text for x in buttons])
    if buttons:
        f = b.d.find_element(By.CSS_SELECTOR, "form[action='/remove']")
        check(f.get_attribute("method").lower() == "post" and
              f.find_element(By.NAME, "ip").get_attribute("value") == relay,
              "  its form posts ip=%s" % relay)
    b.shot("listed")
    b.phone("listed")
    # The desktop width again; the page as it was.
    b.d.refresh()


def removal(b, relay, farmfile):
    with open(farmfile, "w") as f:
        f.write("closed\n")
    out("# the relay is fixed: %s says closed" % farmfile)
    b.d.get_log("performance")
    b.click(b.d.find_element(By.CSS_SELECTOR,
                             "form[action='/remove'] button"))
    # The 303's target may still be loading when the POST's page is gone.
    try:
        WebDriverWait(b.d, 20).until(
            lambda d: re.search(r"/removal/[0-9]+$", d.current_url))
    except TimeoutException:
        pass
    url = b.d.current_url
    m = re.search(r"/removal/([0-9]+)$", url)
    check(m is not None, "\"Retest and remove\" lands on /removal/ID",
          "url: " + url)
    check(b.status(r"/remove$") == 303, "  by a 303 from POST /remove",
          "status: %r" % b.status(r"/remove$"))
    check(b.d.title.startswith("Removal of %s" % relay),
          "  the progress page of %s" % relay, "title: " + b.d.title)
    refresh = b.d.find_elements(By.CSS_SELECTOR,
                                "meta[http-equiv=refresh]")
    first = (b.dd("State") or "")
    out("# first state: %s" % first)
    if first not in ("removed", "still listed"):
        check(len(refresh) == 1 and
              refresh[0].get_attribute("content") == "5",
              "  while %s it refreshes itself every 5 s" % first,
              "meta refresh: %r" % [r.get_attribute("content")
                                    for r in refresh])
    b.shot("removal-" + first.replace(" ", "-"))

    # The page reloads itself (meta refresh): only watch the DOM.
    states = [first]
    t0 = time.time()
    done = False
    while time.time() - t0 < REMOVAL_WAIT:
        try:
            st = b.dd("State") or ""
            if st and st != states[-1]:
                states.append(st)
            v = b.d.find_elements(By.CSS_SELECTOR, ".verdict")
            if st in ("removed", "still listed", "gone") and v and \
                    v[0].text:
                done = True
                break
        except WebDriverException:
            pass                # reloading under us (a stale node)
        time.sleep(0.25)
    out("# states seen: %s after %.1f s" % (" -> ".join(states),
                                            time.time() - t0))
    check(done and states[-1] == "removed",
          "the progress page comes to \"removed\" by itself (%.0f s)" %
          (time.time() - t0), "states: %r" % states,
          "page: " + b.text("main"))
    check(b.d.current_url == url, "  on the same page (%s)" % url,
          "url: " + b.d.current_url)
    verdict = b.text(".verdict")
    check(verdict.startswith("Removed.") and
          ("%s is no longer listed" % relay) in verdict,
          "  it says \"Removed.\", %s is no longer listed" % relay,
          "verdict: " + verdict)
    check(not b.d.find_elements(By.CSS_SELECTOR,
                                "meta[http-equiv=refresh]"),
          "  and no longer refreshes itself")
    b.shot("removed")
    b.phone("removed")
    link = b.d.find_element(By.LINK_TEXT, "Look up %s" % relay)
    b.click(link)
    check("%s is not listed" % relay in b.text(".verdict"),
          "  its \"Look up\" link: %s is not listed now" % relay,
          "verdict: " + b.text(".verdict"))


def other_pages(b, unlisted):
    b.get("/lookup?ip=" + unlisted)
    check(b.status(r"/lookup\?") == 200, "a lookup of %s: 200" % unlisted)
    v = b.text(".verdict")
    check(v == "%s is not listed" % unlisted,
          "  says \"%s is not listed\"" % unlisted, "verdict: " + v)
    check(not b.d.find_elements(By.CSS_SELECTOR, "form[action='/remove']"),
          "  and offers no removal")
    b.shot("not-listed")

    # HTML typed into the form: escaped on the page, no script runs.
    evil = "<script>alert(1)</script>"
    b.get("/")
    ip = b.d.find_element(By.ID, "ip")
    ip.clear()
    ip.send_keys(evil)
    b.click(b.d.find_element(By.CSS_SELECTOR,
                             "form[action='/lookup'] button"))
    st = b.status(r"/lookup\?")
    check(st == 400, "HTML as the address: 400", "status: %r" % st)
    check(b.no_alert(), "  no alert")
    src = b.d.page_source
    check("&lt;script&gt;alert(1)&lt;/script&gt;" in src,
          "  the page source has it escaped (&lt;script&gt;)",
          src[src.find("<main"):][:800])
    nscripts = b.d.execute_script(
        "return document.getElementsByTagName('script').length")
    check(nscripts == 0, "  no <script> element made of it",
          "scripts: %r" % nscripts)
    err = b.text("p.error")
    check(err.startswith('"%s" is not one IPv4 or IPv6 address' % evil),
          "  shown as text in the error", "error: " + err)
    check(b.d.find_element(By.ID, "ip").get_attribute("value") == evil,
          "  and given back in the form as typed")
    # The bytes as the server sent them, not the browser's DOM.
    url = b.d.current_url
    try:
        urllib.request.urlopen(url, timeout=10)
        raw, code = b"", 200
    except urllib.error.HTTPError as e:
        raw, code = e.read(), e.code
    check(code == 400 and b"&lt;script&gt;alert(1)&lt;/script&gt;" in raw
          and b"<script" not in raw.lower(),
          "  the raw response: 400, escaped, no <script anywhere",
          "status %d" % code, raw[:800].decode("utf-8", "replace"))
    b.shot("html-escaped")
    b.phone("html-escaped")

    b.get("/policy")
    check(b.status(r"/policy$") == 200 and
          b.text("h1") == "Listing policy", "GET /policy: Listing policy")
    b.phone("policy")
    b.get("/")
    b.phone("home")


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    base, relay, unlisted, farmfile, shotdir = sys.argv[1:]
    os.makedirs(shotdir, exist_ok=True)
    profile = os.path.join(os.path.dirname(os.path.abspath(shotdir)),
                           "chrome")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    driver = None
    b = None
    try:
        t0 = time.time()
        driver = start_browser(profile)
        driver.set_page_load_timeout(20)
        # Pages are whole when get() or click() returns: an element
        # missing is missing, not waited for.
        driver.implicitly_wait(0)
        out("# %s %s, up in %.1f s" % (
            driver.capabilities.get("browserName"),
            driver.capabilities.get("browserVersion"), time.time() - t0))
        b = Browser(driver, base, shotdir)
        home_and_lookup(b, relay)
        removal(b, relay, farmfile)
        other_pages(b, unlisted)
        out("PASS the browser ran every step")
        return 0
    except Exception as e:         # report, shoot, and say it broke
        out("FAIL the browser ran every step")
        out("#   %s: %s" % (type(e).__name__, str(e).splitlines()[0]
                            if str(e) else ""))
        if b is not None:
            out("#   at " + driver.current_url)
            b.shot("failure")
        return 1
    finally:
        if driver is not None:
            driver.quit()


if __name__ == "__main__":
    sys.exit(main())
