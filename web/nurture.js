/*! Nurture tracking snippet: page views, document downloads and form identification (docs/embedding.md). */
(function (window, document) {
  "use strict";
  // The stub a page or tag manager may set before this loads keeps its calls in `q` (docs/embedding.md).
  var earlier = window.Nurture;
  // Loaded twice (a tag manager and a hard-coded tag): the first one works (an older copy has no `loaded` flag).
  if (earlier && (earlier.loaded || typeof earlier.consent === "function")) return;

  var VID = "nurture_vid";
  var OPT_OUT = "nurture_optout";
  var VALID_VID = /^[A-Za-z0-9_-]{8,64}$/;
  var DOCUMENTS = /\.(pdf|docx?|xlsx?|pptx?|zip)$/i;
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var MAX_URL = 2048; // what the API accepts; longer values would get the whole event or form refused
  var MAX_UTM = 200;
  var YEAR_SECONDS = 395 * 24 * 3600; // a returning visitor within about a year is recognised
  // Events leave together: one request, one write, one scoring (issue 20). A page's events wait at most this long,
  // and go at once when the page is hidden or left; a batch stays within what the API takes in one request.
  var FLUSH_MS = 3000;
  var MAX_EVENTS = 20;
  var MAX_BYTES = 24 * 1024; // the API refuses bodies over 32 KB
  var queue = [];
  var queuedBytes = 2;
  var timer = null;
  var options = { api: "", requireConsent: false, respectDoNotTrack: false };
  var initialized = false;
  var consented = false;
  var lastPage = null;
  var started = false;

  function quietly(action) {
    // The site must work exactly as without the snippet: nothing it does may throw at the page.
    return function () {
      try {
        return action.apply(this, arguments);
      } catch (ignored) {
        return undefined;
      }
    };
  }

  function readCookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? match[1] : null;
  }

  function writeCookie(name, value, seconds) {
    document.cookie = name + "=" + value + "; Max-Age=" + seconds + "; Path=/; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }

  function storage(action) {
    try {
      return action(window.localStorage);
    } catch (blocked) {
      return null; // storage disabled: the cookie alone, or nothing, remembers the visitor
    }
  }

  function knownVisitorId() {
    var found = [readCookie(VID), storage(function (s) { return s.getItem(VID); })];
    for (var i = 0; i < found.length; i++) if (found[i] && VALID_VID.test(found[i])) return found[i];
    return null;
  }

  function remember(vid) {
    writeCookie(VID, vid, YEAR_SECONDS);
    storage(function (s) { s.setItem(VID, vid); });
  }

  function forget() {
    writeCookie(VID, "", 0);
    storage(function (s) { s.removeItem(VID); });
  }

  function newVisitorId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function doNotTrack() {
    return options.respectDoNotTrack &&
      (navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl === true);
  }

  function mayTrack() {
    return initialized && !!options.api && !readCookie(OPT_OUT) && !doNotTrack() &&
      (consented || !options.requireConsent);
  }

  /** The visitor's id: created on first need, and only while tracking is allowed. */
  function visitorId(create) {
    if (!mayTrack()) return null;
    var vid = knownVisitorId() || (create ? newVisitorId() : null);
    if (vid) remember(vid); // refreshes the cookie's lifetime, and mirrors it in localStorage
    return vid && knownVisitorId() === vid ? vid : null;
  }

  function send(event) {
    var vid = visitorId(true);
    if (!vid) return;
    event.vid = vid;
    var bytes = new Blob([JSON.stringify(event)]).size + 1;
    if (queue.length && queuedBytes + bytes > MAX_BYTES) flush();
    queue.push(event);
    queuedBytes += bytes;
    if (queue.length >= MAX_EVENTS) flush();
    else if (!timer) timer = setTimeout(flush, FLUSH_MS);
  }

  // Quietly: the timer calls it outside any of the page's own handlers.
  var flush = quietly(function () {
    clearTimeout(timer);
    timer = null;
    if (!queue.length) return;
    var events = queue.length === 1 ? queue[0] : queue;
    queue = [];
    queuedBytes = 2;
    var url = options.api.replace(/\/$/, "") + "/v1/events";
    // text/plain needs no CORS preflight: the beacon leaves even as the page unloads.
    var body = new Blob([JSON.stringify(events)], { type: "text/plain;charset=UTF-8" });
    if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    if (window.fetch) {
      window.fetch(url, { method: "POST", body: body, keepalive: true, mode: "no-cors", credentials: "omit" })
        .catch(function () {});
    }
  });

  function webUrl(url) {
    // The API takes http(s) URLs only: an app's referrer (android-app://...) is left out, not refused.
    return /^https?:\/\//i.test(url || "") ? url.slice(0, MAX_URL) : "";
  }

  function withoutHash(url) {
    return url.split("#")[0];
  }

  var pageView = quietly(function () {
    if (!mayTrack()) return; // the page is counted once tracking is allowed, not lost before
    var page = withoutHash(location.href);
    if (page === lastPage) return; // an anchor jump, or replaceState with the same URL
    var referrer = lastPage || document.referrer;
    lastPage = page;
    send({ type: "page_view", url: webUrl(page), title: document.title.slice(0, 500), referrer: webUrl(referrer) });
  });

  var onClick = quietly(function (event) {
    var link = event.target && event.target.closest && event.target.closest("a[href]");
    if (!link || !mayTrack()) return;
    var marked = link.hasAttribute("data-nurture-download");
    var href = new URL(link.href);
    if (!marked && !DOCUMENTS.test(href.pathname)) return;
    var name = link.getAttribute("data-nurture-download") || link.textContent.trim() || href.pathname;
    send({ type: "download", url: webUrl(href.href), title: name.slice(0, 500), referrer: webUrl(location.href) });
  });

  function setHidden(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (input && !input.hasAttribute("data-nurture-added")) return; // the site's own field wins
    if (!value) {
      if (input) input.parentNode.removeChild(input);
      return;
    }
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.setAttribute("data-nurture-added", "");
      form.appendChild(input);
    }
    input.value = value;
  }

  /** Marked forms carry the visitor id, the page and the campaign, so the lead gets its history;
   *  nothing is added while tracking is not allowed. */
  var identifyForms = quietly(function () {
    var forms = document.querySelectorAll("form[data-nurture-form]");
    var allowed = mayTrack();
    var vid = allowed ? visitorId(false) : null;
    var query = new URLSearchParams(location.search);
    for (var i = 0; i < forms.length; i++) {
      setHidden(forms[i], "vid", vid);
      setHidden(forms[i], "page", allowed ? webUrl(withoutHash(location.href)) : "");
      for (var j = 0; j < UTM.length; j++) {
        setHidden(forms[i], UTM[j], allowed ? (query.get(UTM[j]) || "").slice(0, MAX_UTM) : "");
      }
    }
  });

  function watchNavigation() {
    ["pushState", "replaceState"].forEach(function (method) {
      var original = history[method];
      history[method] = function () {
        var result = original.apply(this, arguments);
        pageView();
        identifyForms();
        return result;
      };
    });
    window.addEventListener("popstate", pageView);
  }

  function start() {
    if (started || !mayTrack()) return;
    started = true;
    pageView();
    identifyForms();
  }

  var methods = {
    /** Configure and start: { api, requireConsent, respectDoNotTrack }. */
    init: quietly(function (settings) {
      if (initialized) return;
      for (var key in settings) if (Object.prototype.hasOwnProperty.call(settings, key)) options[key] = settings[key];
      initialized = true;
      // The visitor id is only ever created after consent: finding one is the consent of an earlier page.
      consented = consented || !!knownVisitorId();
      watchNavigation();
      document.addEventListener("click", onClick, true);
      document.addEventListener("visibilitychange", quietly(function () {
        if (document.visibilityState === "hidden") flush();
      }));
      window.addEventListener("pagehide", flush);
      document.addEventListener("submit", function (event) {
        if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-nurture-form")) {
          identifyForms();
        }
      }, true);
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
      else start();
    }),
    /** The visitor agreed (true) or withdrew (false). Withdrawing forgets the visitor id on this browser
     *  and keeps tracking off there, whether or not the site requires consent, until consent(true). */
    consent: quietly(function (granted) {
      consented = granted !== false;
      if (consented) {
        if (readCookie(OPT_OUT)) writeCookie(OPT_OUT, "", 0);
        start();
      } else {
        queue = []; // nothing the visitor did before withdrawing leaves afterwards
        queuedBytes = 2;
        forget();
        writeCookie(OPT_OUT, "1", YEAR_SECONDS);
        started = false;
        lastPage = null;
      }
      identifyForms();
    }),
    /** A custom event: track("webinar_video_played", { minutes: 12 }). */
    track: quietly(function (name, props) {
      if (mayTrack()) send({ type: "custom", name: String(name).slice(0, 100), url: webUrl(location.href), props: props || {} });
    }),
    visitorId: quietly(function () { return visitorId(false); })
  };

  // Nurture("consent", true) calls a method by name, as the stub's queue holds them; Nurture.consent(true) too.
  var api = quietly(function (name) {
    if (!Object.prototype.hasOwnProperty.call(methods, name)) return undefined;
    return methods[name].apply(null, Array.prototype.slice.call(arguments, 1));
  });
  for (var method in methods) if (Object.prototype.hasOwnProperty.call(methods, method)) api[method] = methods[method];
  api.loaded = true;

  window.Nurture = api;
  quietly(function () {
    var script = document.currentScript;
    if (!script || script.getAttribute("data-api") === null) return;
    api.init({
      api: script.getAttribute("data-api") || (script.src ? new URL(script.src).origin : location.origin),
      requireConsent: script.getAttribute("data-require-consent") === "true",
      respectDoNotTrack: script.getAttribute("data-respect-dnt") === "true"
    });
  })();
  // What the page asked before the script loaded, in order, after the tag's own settings, each on its own (one
  // malformed entry skips only itself). A stub kept by reference after this pushes onto `Nurture.q`: run at once.
  var run = quietly(function (args) { api.apply(null, Array.prototype.slice.call(args)); });
  var waiting = (earlier && earlier.q && earlier.q.length) ? earlier.q : [];
  for (var i = 0; i < waiting.length; i++) run(waiting[i]);
  api.q = { push: run };
})(window, document);
