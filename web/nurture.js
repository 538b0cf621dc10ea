/*! Nurture tracking snippet: page views, document downloads and form identification (docs/embedding.md). */
(function (window, document) {
  "use strict";

  var VID = "nurture_vid";
  var DOCUMENTS = /\.(pdf|docx?|xlsx?|pptx?|zip)$/i;
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var YEAR_SECONDS = 395 * 24 * 3600; // a returning visitor within about a year is recognised
  var options = { api: "", requireConsent: false, respectDoNotTrack: false };
  var consented = false;
  var lastUrl = null;
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

  function cookie(value) {
    if (value === undefined) {
      var match = document.cookie.match(new RegExp("(?:^|; )" + VID + "=([A-Za-z0-9_-]{8,64})"));
      return match ? match[1] : null;
    }
    document.cookie = VID + "=" + value + "; Max-Age=" + YEAR_SECONDS + "; Path=/; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
    return value;
  }

  function stored(value) {
    try {
      if (value === undefined) return localStorage.getItem(VID);
      localStorage.setItem(VID, value);
    } catch (blocked) {
      // Storage disabled: the cookie alone, or nothing, remembers the visitor.
    }
    return value;
  }

  function newVisitorId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function doNotTrack() {
    return options.respectDoNotTrack &&
      (navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl === true);
  }

  function mayTrack() {
    return !doNotTrack() && (consented || !options.requireConsent);
  }

  /** The visitor's id: created on first need, and only when tracking is allowed. */
  function visitorId(create) {
    var known = cookie() || stored();
    if (known && mayTrack()) {
      cookie(known);
      stored(known);
      return known;
    }
    if (!create || !mayTrack()) return null;
    var fresh = newVisitorId();
    cookie(fresh);
    stored(fresh);
    return cookie() || stored() ? fresh : null;
  }

  function send(event) {
    var vid = visitorId(true);
    if (!vid || !options.api) return;
    event.vid = vid;
    var url = options.api.replace(/\/$/, "") + "/v1/events";
    // text/plain needs no CORS preflight: the beacon leaves even as the page unloads.
    var body = new Blob([JSON.stringify(event)], { type: "text/plain;charset=UTF-8" });
    if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    if (window.fetch) {
      window.fetch(url, { method: "POST", body: body, keepalive: true, mode: "no-cors", credentials: "omit" })
        .catch(function () {});
    }
  }

  function absolute(url) {
    return url ? new URL(url, location.href).href : undefined;
  }

  var pageView = quietly(function () {
    if (location.href === lastUrl) return; // replaceState with the same URL, or a hash-only change back
    var referrer = lastUrl || document.referrer;
    lastUrl = location.href;
    send({ type: "page_view", url: location.href, title: document.title.slice(0, 500), referrer: referrer || "" });
  });

  var onClick = quietly(function (event) {
    var link = event.target && event.target.closest && event.target.closest("a[href]");
    if (!link) return;
    var marked = link.hasAttribute("data-nurture-download");
    var href = new URL(link.getAttribute("href"), location.href);
    if (!marked && !DOCUMENTS.test(href.pathname)) return;
    var name = link.getAttribute("data-nurture-download") || link.textContent.trim() || href.pathname;
    send({ type: "download", url: href.href, title: name.slice(0, 500), referrer: location.href });
  });

  function hidden(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    if (!input.value) input.value = value;
  }

  /** Marked forms carry the visitor id, the page and the campaign, so the lead gets its history. */
  var identifyForms = quietly(function () {
    var forms = document.querySelectorAll("form[data-nurture-form]");
    var vid = visitorId(false);
    var query = new URLSearchParams(location.search);
    for (var i = 0; i < forms.length; i++) {
      if (vid) hidden(forms[i], "vid", vid);
      hidden(forms[i], "page", location.href.split("#")[0]);
      for (var j = 0; j < UTM.length; j++) {
        if (query.get(UTM[j])) hidden(forms[i], UTM[j], query.get(UTM[j]));
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

  var api = {
    /** Configure and start: { api, requireConsent, respectDoNotTrack }. */
    init: quietly(function (settings) {
      for (var key in settings) if (Object.prototype.hasOwnProperty.call(settings, key)) options[key] = settings[key];
      // The visitor id is only ever created after consent: finding one is the consent of an earlier page.
      consented = consented || !!(cookie() || stored());
      watchNavigation();
      document.addEventListener("click", onClick, true);
      document.addEventListener("submit", function (event) {
        if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-nurture-form")) {
          identifyForms();
        }
      }, true);
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
      else start();
    }),
    /** The visitor agreed (true) or withdrew (false); withdrawing forgets the visitor id on this browser. */
    consent: quietly(function (granted) {
      consented = granted !== false;
      if (consented) return start();
      document.cookie = VID + "=; Max-Age=0; Path=/";
      try { localStorage.removeItem(VID); } catch (blocked) { /* nothing stored */ }
      started = false;
    }),
    /** A custom event: track("webinar_video_played", { minutes: 12 }). */
    track: quietly(function (name, props) {
      if (mayTrack()) send({ type: "custom", name: String(name).slice(0, 100), url: location.href, props: props || {} });
    }),
    visitorId: function () { return mayTrack() ? visitorId(false) : null; }
  };

  window.Nurture = api;
  var script = document.currentScript;
  if (script && script.getAttribute("data-api") !== null) {
    api.init({
      api: script.getAttribute("data-api") || new URL(script.src).origin,
      requireConsent: script.getAttribute("data-require-consent") === "true",
      respectDoNotTrack: script.getAttribute("data-respect-dnt") === "true"
    });
  }
})(window, document);
