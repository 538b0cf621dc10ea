/* Nurture console: sign in with Cognito, then read the console API. No framework; everything a lead or a
   visitor typed is shown with textContent, never as markup. */
(function () {
  "use strict";

  var TEXT = {
    ja: {
      leads: "リード", sign_in: "ログイン", sign_out: "ログアウト", email: "メールアドレス", password: "パスワード",
      other_language: "English", rank: "ランク", next: "次のページ", export_csv: "CSVに書き出す", name: "氏名",
      company: "会社", stage: "ステージ", total: "スコア", owner: "担当", profile: "プロフィール",
      score_over_time: "スコアの推移", breakdown: "スコアの内訳", timeline: "タイムライン", person: "人",
      machine: "機械", no_leads: "該当するリードはありません。", sign_in_failed: "メールアドレスかパスワードが違います。",
      forbidden: "この操作は許可されていません。", not_found: "見つかりません。", failed: "読み込めませんでした。",
      consent: "同意の履歴", points: "点", rule: "ルール", when: "日時", status: "状態", search: "検索"
    },
    en: {
      leads: "Leads", sign_in: "Sign in", sign_out: "Sign out", email: "Email", password: "Password",
      other_language: "日本語", rank: "Rank", next: "Next page", export_csv: "Export CSV", name: "Name",
      company: "Company", stage: "Stage", total: "Score", owner: "Owner", profile: "Profile",
      score_over_time: "Score over time", breakdown: "Score breakdown", timeline: "Timeline", person: "person",
      machine: "machine", no_leads: "No leads here.", sign_in_failed: "Wrong email address or password.",
      forbidden: "You are not allowed to do this.", not_found: "Not found.", failed: "Could not load.",
      consent: "Consent history", points: "points", rule: "Rule", when: "When", status: "Status", search: "Search"
    }
  };
  var language = localStorage.getItem("nurture.language") || (navigator.language || "ja").slice(0, 2);
  if (!TEXT[language]) { language = "ja"; }
  var settings = null;
  var view = document.getElementById("view");
  var showing = 0;  // the latest view asked for: an answer to an earlier one, arriving later, is dropped

  function render(ticket, parts) {
    if (ticket === showing) { view.replaceChildren.apply(view, parts); }
  }

  function t(key) { return TEXT[language][key] || key; }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function translate() {
    document.documentElement.lang = language;
    document.querySelectorAll("[data-text]").forEach(function (node) { node.textContent = t(node.dataset.text); });
  }

  function token() { return sessionStorage.getItem("nurture.token"); }

  function signIn(email, password) {
    return fetch(settings.cognitoEndpoint + "/", {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth" },
      body: JSON.stringify({ AuthFlow: "USER_PASSWORD_AUTH", ClientId: settings.clientId,
                             AuthParameters: { USERNAME: email, PASSWORD: password } })
    }).then(function (answer) {
      if (!answer.ok) { throw new Error("sign-in"); }
      return answer.json();
    }).then(function (body) { sessionStorage.setItem("nurture.token", body.AuthenticationResult.IdToken); });
  }

  function api(path) {
    return fetch(settings.api + path, { headers: { Authorization: "Bearer " + token() } }).then(function (answer) {
      if (answer.status === 401) { sessionStorage.removeItem("nurture.token"); showSignIn(); throw new Error("401"); }
      if (!answer.ok) { throw new Error(String(answer.status)); }
      return answer.json();
    });
  }

  function showSignIn() {
    document.getElementById("sign-in").hidden = false;
    document.getElementById("sign-out").hidden = true;
    document.getElementById("user").textContent = "";
    view.replaceChildren();
  }

  function fail(error) {
    if (error.message === "401") { return; }
    var key = error.message === "403" ? "forbidden" : error.message === "404" ? "not_found" : "failed";
    view.replaceChildren(el("p", { "class": "error", role: "alert" }, [t(key)]));
  }

  // A cell a spreadsheet would read as a formula is prefixed with an apostrophe (OWASP's CSV injection advice).
  function csvCell(value) {
    var text = value === null || value === undefined ? "" : String(value);
    if (/^[=+\-@\t\r]/.test(text.normalize("NFKC"))) { text = "'" + text; }  // full-width ＝ too
    return '"' + text.replace(/"/g, '""') + '"';
  }

  function download(name, rows) {
    var blob = new Blob(["\ufeff" + rows.map(function (row) { return row.map(csvCell).join(","); }).join("\r\n")],
                        { type: "text/csv;charset=utf-8" });
    var link = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  var COLUMNS = ["name", "company", "email", "rank", "stage", "total", "owner"];

  function showLeads(rank, cursor, email) {
    var ticket = ++showing;
    var query = email ? "?email=" + encodeURIComponent(email)
      : "?rank=" + encodeURIComponent(rank) + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    api("/v1/console/leads" + query).then(function (page) {
      var select = el("select", { id: "rank" }, ["A", "B", "C"].map(function (value) {
        var option = el("option", { value: value }, [value]);
        option.selected = value === rank;
        return option;
      }));
      select.addEventListener("change", function () { showLeads(select.value, null); });
      var address = el("input", { type: "search", name: "email", autocomplete: "off" });
      address.value = email || "";
      var search = el("form", { role: "search" }, [el("label", {}, [t("email") + " ", address]),
        el("button", { type: "submit", "class": "quiet" }, [t("search")])]);
      search.addEventListener("submit", function (event) {
        event.preventDefault();
        showLeads(rank, null, address.value.trim());
      });
      var exportButton = el("button", { type: "button", "class": "quiet" }, [t("export_csv")]);
      exportButton.addEventListener("click", function () {
        download("leads-" + rank + ".csv", [COLUMNS.map(t)].concat(page.leads.map(function (lead) {
          return COLUMNS.map(function (column) { return lead[column]; });
        })));
      });
      var rows = page.leads.map(function (lead) {
        var link = el("a", { href: "#/leads/" + encodeURIComponent(lead.lead_id) }, [lead.name || lead.email || lead.lead_id]);
        return el("tr", {}, [el("td", {}, [link]), el("td", {}, [lead.company || ""]), el("td", {}, [lead.email || ""]),
          el("td", { "class": "rank-" + lead.rank }, [lead.rank || ""]), el("td", {}, [lead.stage || ""]),
          el("td", { "class": "number" }, [lead.total === null || lead.total === undefined ? "" : String(lead.total)]),
          el("td", {}, [lead.owner || ""])]);
      });
      var table = el("table", {}, [el("thead", {}, [el("tr", {}, COLUMNS.map(function (column) {
        return el("th", { scope: "col" }, [t(column)]);
      }))]), el("tbody", {}, rows)]);
      var parts = [el("h1", {}, [t("leads")]),
        el("div", { "class": "toolbar" }, [el("label", {}, [t("rank") + " ", select]), search, exportButton]),
        rows.length ? table : el("p", {}, [t("no_leads")])];
      if (page.next_cursor) {
        var next = el("button", { type: "button", "class": "quiet" }, [t("next")]);
        next.addEventListener("click", function () { showLeads(rank, page.next_cursor); });
        parts.push(next);
      }
      render(ticket, parts);
    }).catch(fail);
  }

  function chart(history) {
    var width = 640, height = 200, pad = 28;
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "chart");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", t("score_over_time"));
    if (!history.length) { return svg; }
    var times = history.map(function (point) { return Date.parse(point.at); });
    var first = Math.min.apply(null, times), last = Math.max.apply(null, times);
    var top = Math.max.apply(null, history.map(function (point) { return point.total; }).concat([1]));
    function x(time) { return pad + (last === first ? 0 : (time - first) / (last - first)) * (width - 2 * pad); }
    function y(value) { return height - pad - (value / top) * (height - 2 * pad); }
    var axis = document.createElementNS(ns, "line");
    [["x1", pad], ["y1", height - pad], ["x2", width - pad], ["y2", height - pad], ["class", "axis"]].forEach(
      function (pair) { axis.setAttribute(pair[0], pair[1]); });
    svg.appendChild(axis);
    var line = document.createElementNS(ns, "polyline");
    line.setAttribute("class", "line");
    line.setAttribute("points", history.map(function (point, index) {
      return x(times[index]).toFixed(1) + "," + y(point.total).toFixed(1);
    }).join(" "));
    svg.appendChild(line);
    history.forEach(function (point, index) {
      if (!point.rule_id) { return; }
      var dot = document.createElementNS(ns, "circle");
      dot.setAttribute("class", "step");
      dot.setAttribute("cx", x(times[index]).toFixed(1));
      dot.setAttribute("cy", y(point.total).toFixed(1));
      dot.setAttribute("r", "4");
      var title = document.createElementNS(ns, "title");
      title.textContent = when(point.at) + " " + point.rule_id + " " + (point.points > 0 ? "+" : "") + point.points + " " + t("points");
      dot.appendChild(title);
      svg.appendChild(dot);
    });
    var label = document.createElementNS(ns, "text");
    label.setAttribute("x", "4");
    label.setAttribute("y", "14");
    label.textContent = String(Math.round(top));
    svg.appendChild(label);
    return svg;
  }

  function card(title, children, wide) {
    return el("section", { "class": wide ? "card wide" : "card" }, [el("h2", {}, [title])].concat(children));
  }

  function when(iso) {
    var moment = new Date(iso);
    return isNaN(moment) ? String(iso || "") : moment.toLocaleString(language === "ja" ? "ja-JP" : "en-GB");
  }

  function shown(value) { return value !== null && typeof value === "object" ? JSON.stringify(value) : String(value); }

  function showLead(leadId) {
    var ticket = ++showing;
    api("/v1/console/leads/" + encodeURIComponent(leadId)).then(function (lead) {
      var profile = el("dl", {}, []);
      Object.keys(lead.profile).forEach(function (key) {
        profile.appendChild(el("dt", {}, [key]));
        profile.appendChild(el("dd", {}, [shown(lead.profile[key])]));
      });
      [["status", lead.status], ["rank", lead.rank], ["stage", lead.stage], ["total", String(lead.scores.total)],
       ["owner", lead.owner ? lead.owner.id : "—"]].forEach(function (pair) {
        profile.appendChild(el("dt", {}, [t(pair[0])]));
        profile.appendChild(el("dd", {}, [pair[1]]));
      });
      var steps = lead.score_history.filter(function (point) { return point.rule_id; }).reverse().map(function (point) {
        return el("tr", {}, [el("td", {}, [when(point.at)]), el("td", {}, [point.rule_id + " " + (point.reason || "")]),
          el("td", { "class": "number" }, [(point.points > 0 ? "+" : "") + point.points]),
          el("td", { "class": "number" }, [String(point.total)])]);
      });
      var stepTable = el("table", {}, [el("thead", {}, [el("tr", {}, [t("when"), t("rule"), t("points"), t("total")]
        .map(function (heading) { return el("th", { scope: "col" }, [heading]); }))]), el("tbody", {}, steps)]);
      var timeline = el("ol", { "class": "timeline" }, lead.activities.map(function (activity) {
        var what = [activity.type, activity.url || activity.subject || activity.form_id || activity.name || ""].join(" ");
        return el("li", {}, [el("span", { "class": "badge " + activity.by }, [t(activity.by)]), " ",
          when(activity.occurred_at), " ", what]);
      }));
      var consents = el("ul", {}, lead.consent_history.map(function (entry) {
        return el("li", {}, [[when(entry.at || entry.given_at), entry.purpose || entry.type || "", entry.via || ""].join(" ")]);
      }));
      render(ticket, [el("h1", {}, [lead.profile.name || lead.profile.email || lead.lead_id]),
        el("div", { "class": "cards" }, [card(t("score_over_time"), [chart(lead.score_history)], true),
          card(t("profile"), [profile]), card(t("breakdown"), [stepTable]), card(t("timeline"), [timeline]),
          card(t("consent"), [consents])])]);
    }).catch(fail);
  }

  function route() {
    if (!token()) { showSignIn(); return; }
    document.getElementById("sign-in").hidden = true;
    document.getElementById("sign-out").hidden = false;
    var lead = location.hash.match(/^#\/leads\/(.+)$/);
    var leadId = null;
    try { leadId = lead ? decodeURIComponent(lead[1]) : null; } catch (malformed) { leadId = null; }
    if (leadId) { showLead(leadId); } else { showLeads("A", null); }
    api("/v1/console/me").then(function (me) {
      document.getElementById("user").textContent = (me.email || "") + " (" + me.groups.join(", ") + ")";
    }).catch(fail);
  }

  document.getElementById("language").addEventListener("click", function () {
    language = language === "ja" ? "en" : "ja";
    localStorage.setItem("nurture.language", language);
    translate();
    route();
  });
  document.getElementById("sign-out").addEventListener("click", function () {
    sessionStorage.removeItem("nurture.token");
    showSignIn();
  });
  document.getElementById("sign-in").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    document.getElementById("sign-in-error").textContent = "";
    signIn(form.email.value, form.password.value).then(function () {
      form.password.value = "";
      route();
    }).catch(function () { document.getElementById("sign-in-error").textContent = t("sign_in_failed"); });
  });
  window.addEventListener("hashchange", route);

  fetch("settings.json").then(function (answer) { return answer.json(); }).then(function (loaded) {
    settings = loaded;
    translate();
    route();
  });
}());
