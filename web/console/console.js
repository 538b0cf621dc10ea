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
      consent: "同意の履歴", points: "点", rule: "ルール", when: "日時", status: "状態", search: "検索",
      home: "ホーム", campaigns: "キャンペーン", deliverability: "配信の健全性", this_week: "直近7日",
      previous_week: "その前の7日", sent: "送信", bounced: "ハードバウンス", complained: "苦情",
      bounce_rate: "バウンス率", complaint_rate: "苦情率", threshold: "停止の基準", state_ok: "正常",
      state_at_risk: "注意", state_paused: "停止中", resume: "配信を再開", confirm_resume: "配信を再開しますか？",
      changes: "最近の変更", by: "実行者", schedule: "予約", cancel: "取り消し", sends: "配信日時",
      segment: "セグメント", confirm_schedule: "このキャンペーンを予約しますか？",
      confirm_cancel: "このキャンペーンを取り消しますか？まだ送られていないメールは送られません。",
      refused: "この状態では実行できません。", draft: "下書き", scheduled: "予約済み", sending: "配信中",
      sent_status: "配信済み", cancelled: "取り消し済み", no_changes: "変更はまだありません。",
      new_leads: "新規リード", conversions: "フォーム送信", handoffs: "ホットリード（営業へ引き渡し）", accepted: "営業の受け入れ",
      opened: "開封（人）", clicked: "クリック（人）", unsubscribed: "配信停止", kpis: "KPI",
      this_month: "直近28日", previous_month: "その前の28日", trend: "週ごとの新規リード",
      preview: "プレビュー（サンプルのリード宛て）", subject: "件名", counts: "結果",
      nurturing: "育成中", handed_off: "営業に引き渡し済み", won: "受注", recycled: "育成に戻した",
      segments: "セグメント", count: "数える", counting: "数えています…", description: "説明",
      counted: "件のリード（走査したプロフィール", counted_end: "件）",
      config: "設定", active_version: "使用中のバージョン", version: "バージョン", show_diff: "変更点を見る",
      rollback: "ひとつ前のバージョンに戻す", confirm_rollback: "ひとつ前のバージョンに戻しますか？",
      test_send: "テスト送信", send_test: "テストを送る", seed: "送信先（シード）", language_label: "言語",
      test_queued: "テストを送信しました。届くまで少しお待ちください。",
      erase: "このリードを消去", confirm_erase: "このリードのすべての記録を消去します。元に戻せません。よろしいですか？",
      new_owner: "新しい担当", reason: "理由", reassign: "担当を変更", confirm_reassign: "このリードの担当を変更しますか？",
      emails_received: "受け取ったメール", sales_side: "営業（判定・担当・タスク）", tasks: "タスク",
      customer: "顧客（RFM・CPM）", cpm_segment: "CPMセグメント", orders: "購入回数", spent: "購入金額", products: "購入商品", purchases: "購入",
      next_product: "次に買われやすい商品",
      proposed_changes: "確認待ちの変更（本人確認のないフォームから）", find_leads: "リードを探す", find_text: "氏名・会社名・メールアドレスの一部", subscribed: "配信可能",
      yes: "はい", no: "いいえ", source: "流入元 (utm_source)", found: "件見つかりました（表示は",
      found_end: "件）", give_a_filter: "文字か条件をひとつ以上入れてください。", sort_by: "並べ替え",
      last_activity_at: "最終活動", propose: "設定を変更する", file: "ファイル", contents: "内容", check: "確認して差分を見る", push: "次のバージョンとして公開",
      confirm_push: "この変更を次のバージョンとして公開しますか？1分以内に各機能が使い始めます。",
      problems_found: "件の問題があります。公開できません。", no_problems: "問題はありません。",
      pushed: "公開しました。バージョン ", funnel: "ファネル（直近28日）", of_previous: "前の段階の", sequences: "シーケンス", calendar: "年間カレンダー", enters: "対象", stops: "停止条件", days_after: "日後",
      open_rate: "開封率", click_rate: "クリック率", always: "常に", opened_previous: "前のメールを開封した人",
      not_opened_previous: "前のメールを開封していない人", clicked_previous: "前のメールをクリックした人",
      not_clicked_previous: "前のメールをクリックしていない人", sunset: "休眠とみなすまで", silent: "なし",
      silent_legend: "「なし」はその月に届くメールがない（接点のない）月です。", previous_year: "前の年",
      next_year: "次の年", days: "日", rank_row: "ランク", no_sequences: "シーケンスはありません。"
    },
    en: {
      leads: "Leads", sign_in: "Sign in", sign_out: "Sign out", email: "Email", password: "Password",
      other_language: "日本語", rank: "Rank", next: "Next page", export_csv: "Export CSV", name: "Name",
      company: "Company", stage: "Stage", total: "Score", owner: "Owner", profile: "Profile",
      score_over_time: "Score over time", breakdown: "Score breakdown", timeline: "Timeline", person: "person",
      machine: "machine", no_leads: "No leads here.", sign_in_failed: "Wrong email address or password.",
      forbidden: "You are not allowed to do this.", not_found: "Not found.", failed: "Could not load.",
      consent: "Consent history", points: "points", rule: "Rule", when: "When", status: "Status", search: "Search",
      home: "Home", campaigns: "Campaigns", deliverability: "Deliverability", this_week: "Last 7 days",
      previous_week: "The 7 days before", sent: "Sent", bounced: "Hard bounces", complained: "Complaints",
      bounce_rate: "Bounce rate", complaint_rate: "Complaint rate", threshold: "Pauses above", state_ok: "OK",
      state_at_risk: "At risk", state_paused: "Paused", resume: "Resume sending", confirm_resume: "Resume sending?",
      changes: "Latest changes", by: "By", schedule: "Schedule", cancel: "Cancel", sends: "Goes out",
      segment: "Segment", confirm_schedule: "Schedule this campaign?",
      confirm_cancel: "Cancel this campaign? Nothing more of it goes out.",
      refused: "This does not apply in its present state.", draft: "Draft", scheduled: "Scheduled",
      sending: "Sending", sent_status: "Sent", cancelled: "Cancelled", no_changes: "No changes yet.",
      new_leads: "New leads", conversions: "Form submissions", handoffs: "Hot leads (handed to sales)",
      accepted: "Accepted by sales", opened: "Opens (people)", clicked: "Clicks (people)",
      unsubscribed: "Unsubscribes", kpis: "KPIs", this_month: "Last 28 days", previous_month: "The 28 days before",
      trend: "New leads per week",
      preview: "Preview (to a sample lead)", subject: "Subject", counts: "Results",
      nurturing: "Nurturing", handed_off: "Handed off", won: "Won", recycled: "Recycled",
      segments: "Segments", count: "Count", counting: "Counting…", description: "Description",
      counted: " leads (profiles scanned: ", counted_end: ")",
      config: "Config", active_version: "Active version", version: "Version", show_diff: "What it changed",
      rollback: "Roll back to the version before", confirm_rollback: "Make the version before the active one active again?",
      test_send: "Test send", send_test: "Send the test", seed: "To (a seed address)", language_label: "Language",
      test_queued: "The test is on its way.",
      erase: "Erase this lead", confirm_erase: "Erase everything recorded of this lead? This cannot be undone.",
      new_owner: "New owner", reason: "Reason", reassign: "Change owner", confirm_reassign: "Give this lead to another owner?",
      emails_received: "Emails received", sales_side: "Sales (verdicts, owner, tasks)", tasks: "Tasks",
      customer: "Customer (RFM, CPM)", cpm_segment: "CPM segment", orders: "Orders", spent: "Spent", products: "Products", purchases: "Purchases",
      next_product: "Likely next product",
      proposed_changes: "Proposed changes (from unverified forms)", find_leads: "Find leads", find_text: "Part of a name, company or address", subscribed: "May be emailed",
      yes: "yes", no: "no", source: "Source (utm_source)", found: " leads found (shown: ", found_end: ")",
      give_a_filter: "Type a text or choose a filter.", sort_by: "Sort by", last_activity_at: "Last activity",
      propose: "Change the config", file: "File", contents: "Contents", check: "Check and show the diff", push: "Publish as the next version",
      confirm_push: "Publish this change as the next version? Functions use it within a minute.",
      problems_found: " problem(s): this cannot be published.", no_problems: "No problems found.",
      pushed: "Published: version ", funnel: "Funnel (last 28 days)", of_previous: "of the stage before", sequences: "Sequences",
      calendar: "Calendar", enters: "Who enters", stops: "Stops on", days_after: " days later",
      open_rate: "Open rate", click_rate: "Click rate", always: "always", opened_previous: "opened the one before",
      not_opened_previous: "did not open the one before", clicked_previous: "clicked in the one before",
      not_clicked_previous: "did not click in the one before", sunset: "Sunset after", silent: "none",
      silent_legend: "\u201cnone\u201d marks a month in which nothing reaches them (no touchpoint).",
      previous_year: "Previous year", next_year: "Next year", days: " days", rank_row: "Rank",
      no_sequences: "No sequences."
    }
  };
  var language = localStorage.getItem("nurture.language") || (navigator.language || "ja").slice(0, 2);
  if (!TEXT[language]) { language = "ja"; }
  var settings = null;
  var view = document.getElementById("view");
  var showing = 0;  // the latest view asked for: an answer to an earlier one, arriving later, is dropped
  var me = null;  // who is signed in and what they may do (GET /v1/console/me)

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

  function api(path, method, body) {
    var headers = { Authorization: "Bearer " + token() };
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(settings.api + path, { method: method || "GET", headers: headers,
                                        body: body ? JSON.stringify(body) : undefined })
      .then(function (answer) {
      if (answer.status === 401) { sessionStorage.removeItem("nurture.token"); showSignIn(); throw new Error("401"); }
      if (!answer.ok) { throw new Error(String(answer.status)); }
      return answer.status === 204 ? null : answer.json();
    });
  }

  function showSignIn() {
    document.getElementById("sign-in").hidden = false;
    document.getElementById("sign-out").hidden = true;
    document.getElementById("user").textContent = "";
    me = null;
    view.replaceChildren();
  }

  function may(right) { return me !== null && me.may.indexOf(right) >= 0; }

  function failure(error) {
    return t({ "403": "forbidden", "404": "not_found", "409": "refused" }[error.message] || "failed");
  }

  function fail(error) {
    if (error.message === "401") { return; }
    view.replaceChildren(el("p", { "class": "error", role: "alert" }, [failure(error)]));
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

  var STAGES = ["nurturing", "handed_off", "accepted", "won", "recycled"];

  function choice(id, values, chosen, labels) {
    var select = el("select", { id: id }, values.map(function (value, index) {
      var option = el("option", { value: value }, [labels ? labels[index] : value]);
      option.selected = value === chosen;
      return option;
    }));
    return select;
  }

  // A page of leads: a rank's, an owner's (of a stage, or every stage), or the one with an address.
  function showLeads(view) {
    var ticket = ++showing;
    var query = view.email ? "?email=" + encodeURIComponent(view.email)
      : (view.owner ? "?owner=" + encodeURIComponent(view.owner) + (view.stage ? "&stage=" + encodeURIComponent(view.stage) : "")
        : "?rank=" + encodeURIComponent(view.rank) + (view.stage ? "&stage=" + encodeURIComponent(view.stage) : ""))
      + (view.cursor ? "&cursor=" + encodeURIComponent(view.cursor) : "");
    api("/v1/console/leads" + query).then(function (page) {
      var rank = choice("rank", ["A", "B", "C"], view.rank);
      rank.addEventListener("change", function () { showLeads({ rank: rank.value }); });
      var filters = [el("label", {}, [t("rank") + " ", rank])];
      var sales = me.owners.length === 0;  // a salesperson: their own leads, by stage
      if (!sales) {
        var owner = choice("owner", [""].concat(me.owners.map(function (o) { return o.id; })), view.owner || "",
                           ["—"].concat(me.owners.map(function (o) { return o.name; })));
        owner.addEventListener("change", function () { showLeads({ rank: view.rank, owner: owner.value }); });
        filters.push(el("label", {}, [t("owner") + " ", owner]));
      }
      if (sales || view.owner) {
        var stage = choice("stage", [""].concat(STAGES), view.stage || "", ["—"].concat(STAGES.map(t)));
        stage.addEventListener("change", function () {
          showLeads({ rank: view.rank, owner: view.owner, stage: stage.value });
        });
        filters.push(el("label", {}, [t("stage") + " ", stage]));
      }
      var address = el("input", { type: "search", name: "email", autocomplete: "off" });
      address.value = view.email || "";
      var search = el("form", { role: "search" }, [el("label", {}, [t("email") + " ", address]),
        el("button", { type: "submit", "class": "quiet" }, [t("search")])]);
      search.addEventListener("submit", function (event) {
        event.preventDefault();
        showLeads({ rank: view.rank, email: address.value.trim() });
      });
      var exportButton = el("button", { type: "button", "class": "quiet" }, [t("export_csv")]);
      exportButton.addEventListener("click", function () {
        download("leads-" + (view.owner || view.rank) + ".csv", [COLUMNS.map(t)].concat(page.leads.map(function (lead) {
          return COLUMNS.map(function (column) { return lead[column]; });
        })));
      });
      var parts = [el("h1", {}, [t("leads")]),
        el("div", { "class": "toolbar" }, filters.concat([search, exportButton])),
        page.leads.length ? leadTable(page.leads, COLUMNS) : el("p", {}, [t("no_leads")])];
      if (page.next_cursor) {
        var next = el("button", { type: "button", "class": "quiet" }, [t("next")]);
        next.addEventListener("click", function () {
          showLeads({ rank: view.rank, owner: view.owner, stage: view.stage, cursor: page.next_cursor });
        });
        parts.push(next);
      }
      render(ticket, parts);
    }).catch(fail);
  }

  // Leads as a table: the name links to the lead's page; every value is text.
  function leadTable(leads, columns) {
    return el("table", {}, [el("thead", {}, [el("tr", {}, columns.map(function (column) {
      return el("th", { scope: "col" }, [t(column)]);
    }))]), el("tbody", {}, leads.map(function (lead) {
      return el("tr", {}, columns.map(function (column) {
        var value = lead[column] === null || lead[column] === undefined ? "" : String(lead[column]);
        if (column === "name") {
          return el("td", {}, [el("a", { href: "#/leads/" + encodeURIComponent(lead.lead_id) },
                                  [value || lead.email || lead.lead_id])]);
        }
        if (column === "last_activity_at") { value = value ? when(value) : ""; }
        return el("td", column === "rank" ? { "class": "rank-" + value } : column === "total" ? { "class": "number" } : {},
                  [value]);
      }));
    }))]);
  }

  // A job the audience workers run (a segment's count, a search), asked after every second until it is done.
  function pollJob(path, done) {
    var ticket = showing;
    (function poll() {
      api(path).then(function (job) {
        if (ticket !== showing) { return; }  // another view since
        if (!job.done) { setTimeout(poll, 1000); return; }
        done(job);
      }).catch(fail);
    }());
  }

  var STATUSES = ["active", "unconfirmed", "unsubscribed", "bounced", "complained", "converted", "dormant", "recycled"];
  var FOUND_COLUMNS = COLUMNS.concat(["last_activity_at"]);

  // Every lead whose name, company or address holds the text, with the filters chosen: the audience workers go
  // through every lead; the first 100 found are shown, sorted here by score or by last activity.
  function showSearch() {
    var ticket = ++showing;
    var segments = may("segments:read") ? api("/v1/console/segments") : Promise.resolve({ segments: [] });
    segments.then(function (listed) {
      if (ticket !== showing) { return; }
      var text = el("input", { type: "search", name: "text", autocomplete: "off", maxlength: "100" });
      var rank = choice("found-rank", ["", "A", "B", "C"], "", ["—", "A", "B", "C"]);
      var stage = choice("found-stage", [""].concat(STAGES), "", ["—"].concat(STAGES.map(t)));
      var status = choice("found-status", [""].concat(STATUSES), "", ["—"].concat(STATUSES));
      var subscribed = choice("found-subscribed", ["", "true", "false"], "", ["—", t("yes"), t("no")]);
      var names = listed.segments.map(function (segment) { return segment.name; });
      var segment = choice("found-segment", [""].concat(names), "", ["—"].concat(names));
      var source = el("input", { type: "text", name: "source", autocomplete: "off", maxlength: "100" });
      var said = el("p", { role: "status" }, []);
      var found = el("div", {}, []);
      var searches = 0;  // only the latest search's answer is shown
      var form = el("form", { role: "search", "class": "toolbar" }, [
        el("label", {}, [t("find_text"), text]), el("label", {}, [t("rank"), rank]), el("label", {}, [t("stage"), stage]),
        el("label", {}, [t("status"), status]), el("label", {}, [t("subscribed"), subscribed]),
        el("label", {}, [t("segment"), segment]), el("label", {}, [t("source"), source]),
        el("button", { type: "submit" }, [t("search")])]);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var query = { text: text.value };
        [["rank", rank], ["stage", stage], ["status", status]].forEach(function (pair) {
          if (pair[1].value) { query[pair[0]] = [pair[1].value]; }
        });
        if (source.value.trim()) { query.source = [source.value.trim()]; }
        if (subscribed.value) { query.subscribed = subscribed.value === "true"; }
        if (segment.value) { query.segment = segment.value; }
        said.textContent = t("counting");
        found.replaceChildren();
        var mine = ++searches;
        api("/v1/console/leads/search", "POST", query).then(function (started) {
          pollJob("/v1/console/leads/search/" + started.job_id, function (job) {
            if (mine !== searches) { return; }
            said.textContent = job.leads + t("found") + job.preview.length + t("found_end");
            showFound(found, job.preview, "total");
          });
        }).catch(function (error) { said.textContent = error.message === "422" ? t("give_a_filter") : t("failed"); });
      });
      render(ticket, [el("h1", {}, [t("find_leads")]), form, said, found]);
    }).catch(fail);
  }

  function showFound(found, leads, order) {
    var sorted = leads.slice().sort(function (a, b) {
      return order === "total" ? (b.total || 0) - (a.total || 0)
        : String(b.last_activity_at || "").localeCompare(String(a.last_activity_at || ""));
    });
    var sort = choice("found-order", ["total", "last_activity_at"], order, [t("total"), t("last_activity_at")]);
    sort.addEventListener("change", function () { showFound(found, leads, sort.value); });
    var exportButton = el("button", { type: "button", "class": "quiet" }, [t("export_csv")]);
    exportButton.addEventListener("click", function () {
      download("leads-found.csv", [FOUND_COLUMNS.map(t)].concat(sorted.map(function (lead) {
        return FOUND_COLUMNS.map(function (column) { return lead[column]; });
      })));
    });
    found.replaceChildren(el("div", { "class": "toolbar" }, [el("label", {}, [t("sort_by"), sort]), exportButton]),
                          sorted.length ? leadTable(sorted, FOUND_COLUMNS) : el("p", {}, [t("no_leads")]));
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

  // A profile value as text: a list by commas, an object (consent, first touch) as "key: value" pairs.
  function shown(value) {
    if (value === null || value === undefined) { return ""; }
    if (Array.isArray(value)) { return value.map(shown).join(", "); }
    if (typeof value === "object") {
      return Object.keys(value).map(function (key) { return key + ": " + shown(value[key]); }).join(" / ");
    }
    return String(value);
  }

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
        return el("li", {}, [el("span", { "class": "badge " + activity.origin }, [t(activity.origin)]), " ",
          when(activity.occurred_at), " ", what]);
      }));
      var consents = el("ul", {}, lead.consent_history.map(function (entry) {
        return el("li", {}, [[when(entry.at || entry.given_at), entry.purpose || entry.type || "", entry.via || ""].join(" ")]);
      }));
      function listed(items, describe) {
        return items.length ? el("ul", {}, items.map(function (item) { return el("li", {}, [describe(item)]); }))
          : el("p", {}, ["—"]);
      }
      var emails = lead.activities.filter(function (a) { return a.type === "email_sent" || a.type === "email_failed"; });
      var received = listed(emails, function (a) {
        return [when(a.occurred_at), a.campaign ? t("campaigns") + ": " + a.campaign : (a.sequence || "") + " " +
                (a.template || a.step || ""), a.subject || "", a.type === "email_failed" ? "(" + t("failed") + ")" : ""]
          .join(" ");
      });
      var verdicts = lead.activities.filter(function (a) { return a.type === "sales_feedback" || a.type === "owner_changed"; });
      var sales = [listed(verdicts, function (a) {
        return [when(a.occurred_at), a.type === "sales_feedback" ? t(a.outcome) : t("owner") + ": " + (a.from || "—") +
                " → " + (a.to || "—"), a.reason || ""].join(" ");
      }), el("h3", {}, [t("tasks")]), listed(lead.tasks, function (task) {
        return [task.kind, task.status, task.owner, task.due_at ? when(task.due_at) : "", task.reason || ""].join(" ");
      })];
      if (may("leads:reassign") && me.owners.length) {
        var owners = me.owners.filter(function (o) { return !lead.owner || o.id !== lead.owner.id; });
        var to = choice("new-owner", owners.map(function (o) { return o.id; }), "", owners.map(function (o) { return o.name; }));
        var why = el("input", { type: "text", name: "reason", required: "", maxlength: "500", autocomplete: "off" });
        var give = el("form", { "class": "reassign" }, [el("label", {}, [t("new_owner"), to]),
          el("label", {}, [t("reason"), why]), el("button", { type: "submit" }, [t("reassign")])]);
        give.addEventListener("submit", function (event) {
          event.preventDefault();
          if (!window.confirm(t("confirm_reassign"))) { return; }
          api("/v1/console/leads/" + encodeURIComponent(lead.lead_id) + "/owner", "POST",
              { owner: to.value, reason: why.value }).then(function () { showLead(lead.lead_id); }).catch(fail);
        });
        sales.push(give);
      }
      var proposed = listed(lead.proposed_changes, function (change) {
        return when(change.at) + " " + (change.form_id || "") + ": " + Object.keys(change.fields).map(function (name) {
          return name + " → " + shown(change.fields[name]);
        }).join(", ");
      });
      var cards = [card(t("score_over_time"), [chart(lead.score_history)], true),
        card(t("profile"), [profile]), card(t("breakdown"), [stepTable]), card(t("timeline"), [timeline]),
        card(t("emails_received"), [received]), card(t("sales_side"), sales),
        card(t("proposed_changes"), [proposed]), card(t("consent"), [consents])];
      var customer = lead.customer;
      if (customer) {  // a lead with purchases, or won: its segment and RFM scores as the daily review left them
        var standing = el("dl", {}, []);
        [["cpm_segment", (customer.segment_name || "—") + (customer.segment ? " (" + customer.segment + ")" : "")],
         ["RFM", customer.rfm ? "R" + customer.rfm.recency + " F" + customer.rfm.frequency + " M" + customer.rfm.monetary : "—"],
         ["orders", String(customer.orders)], ["spent", "¥" + customer.total.toLocaleString()],
         ["purchases", [customer.first_purchase, customer.last_purchase].filter(Boolean).join(" – ") || "—"],
         ["products", customer.products.join(", ") || "—"],
         ["next_product", customer.next_product || "—"]].forEach(function (pair) {
          standing.appendChild(el("dt", {}, [t(pair[0])]));
          standing.appendChild(el("dd", {}, [pair[1]]));
        });
        cards.splice(2, 0, card(t("customer"), [standing]));
      }
      var parts = [el("h1", {}, [lead.profile.name || lead.profile.email || lead.lead_id]),
        el("div", { "class": "cards" }, cards)];
      if (may("leads:erase")) {
        parts.push(el("p", { "class": "danger" }, [action(t("erase"), t("confirm_erase"), "DELETE",
          "/v1/console/leads/" + encodeURIComponent(lead.lead_id), function () { location.hash = "#/leads"; })]));
      }
      render(ticket, parts);
    }).catch(fail);
  }

  function percent(rate, digits) { return (rate * 100).toFixed(digits) + "%"; }

  // A change, made once its question is confirmed: POST (with `body`, if any) unless `method` says otherwise.
  function action(label, question, method, path, then, body) {
    var button = el("button", { type: "button" }, [label]);
    button.addEventListener("click", function () {
      if (!window.confirm(question)) { return; }
      button.disabled = true;
      api(path, method || "POST", body).then(then).catch(fail);
    });
    return button;
  }

  function showHome() {
    var ticket = ++showing;
    api("/v1/console/home").then(function (home) {
      var guard = home.deliverability;
      var rates = el("dl", {}, [el("dt", {}, [t("status")]),
        el("dd", { "class": "state-" + guard.state }, [t("state_" + guard.state)]),
        el("dt", {}, [t("bounce_rate")]),
        el("dd", {}, [percent(guard.bounce_rate, 2) + " (" + t("threshold") + " " + percent(guard.pause_bounce_rate, 2) + ")"]),
        el("dt", {}, [t("complaint_rate")]),
        el("dd", {}, [percent(guard.complaint_rate, 3) + " (" + t("threshold") + " " + percent(guard.pause_complaint_rate, 3) + ")"])]);
      var panel = [rates];
      if (guard.reason) { panel.push(el("p", {}, [guard.reason])); }
      if (guard.state === "paused" && may("sending:resume")) {
        panel.push(action(t("resume"), t("confirm_resume"), null, "/v1/console/sending/resume", showHome));
      }
      var kinds = ["sent", "bounced", "complained"];
      var weeks = el("table", {}, [el("thead", {}, [el("tr", {}, [el("td", {}, [])].concat(kinds.map(function (kind) {
        return el("th", { scope: "col" }, [t(kind)]);
      })))]), el("tbody", {}, ["this_week", "previous_week"].map(function (week) {
        return el("tr", {}, [el("th", { scope: "row" }, [t(week)])].concat(kinds.map(function (kind) {
          return el("td", { "class": "number" }, [String(home.sending[week][kind])]);
        })));
      }))]);
      var changes = home.changes.length ? el("ul", { "class": "changes" }, home.changes.map(function (change) {
        return el("li", {}, [when(change.at) + " " + change.by + " " + change.action + " " + change.target]);
      })) : el("p", {}, [t("no_changes")]);
      var periods = ["this_week", "previous_week", "this_month", "previous_month"];
      var kpis = el("table", { "class": "kpis" }, [el("thead", {}, [el("tr", {}, [el("td", {}, [])].concat(
        periods.map(function (period) { return el("th", { scope: "col" }, [t(period)]); })))]),
        el("tbody", {}, KPIS.map(function (kpi) {
          return el("tr", {}, [el("th", { scope: "row" }, [t(kpi)])].concat(periods.map(function (period) {
            return el("td", { "class": "number" }, [String(home.kpis[period][kpi])]);
          })));
        }))]);
      render(ticket, [el("h1", {}, [t("home")]), el("div", { "class": "cards" }, [
        card(t("kpis"), [kpis], true), card(t("funnel"), [funnel(home.funnel)]),
        card(t("trend"), [bars(home.trend, "new_leads")]),
        card(t("deliverability"), panel.concat([weeks]), true), card(t("changes"), [changes], true)])]);
    }).catch(fail);
  }

  // Each stage of the period as a bar as long as its count, with its share of the stage before.
  function funnel(stages) {
    var top = Math.max.apply(null, stages.map(function (stage) { return stage.count; }).concat([1]));
    return el("ol", { "class": "funnel" }, stages.map(function (stage) {
      var share = stage.of_previous === null ? "" : " (" + percent(stage.of_previous, 0) + " " + t("of_previous") + ")";
      var bar = el("span", { "class": "bar" }, []);
      bar.style.width = Math.max(2, stage.count / top * 100) + "%";  // the CSSOM, which the page's CSP allows
      return el("li", { "data-stage": stage.stage }, [el("span", {}, [t(stage.stage)]), bar,
        el("span", { "class": "number" }, [String(stage.count) + share])]);
    }));
  }

  var KPIS = ["new_leads", "conversions", "handoffs", "accepted", "won", "sent", "opened", "clicked", "unsubscribed",
              "bounced", "complained"];

  // One bar per week, its count in its title (and as text above it).
  function bars(weeks, kpi) {
    var width = 320, height = 140, pad = 20, ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "chart bars");
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", t(kpi) + ": " + weeks.map(function (week) { return week[kpi]; }).join(", "));
    var top = Math.max.apply(null, weeks.map(function (week) { return week[kpi]; }).concat([1]));
    var slot = (width - 2 * pad) / weeks.length;
    weeks.forEach(function (week, index) {
      var tall = (week[kpi] / top) * (height - 2 * pad);
      var bar = document.createElementNS(ns, "rect");
      [["x", pad + index * slot + 4], ["y", height - pad - tall], ["width", slot - 8], ["height", tall]].forEach(
        function (pair) { bar.setAttribute(pair[0], String(pair[1])); });
      var title = document.createElementNS(ns, "title");
      title.textContent = week.from + ": " + week[kpi];
      bar.appendChild(title);
      svg.appendChild(bar);
      var label = document.createElementNS(ns, "text");
      label.setAttribute("x", String(pad + index * slot + slot / 2));
      label.setAttribute("y", String(height - pad - tall - 4));
      label.setAttribute("text-anchor", "middle");
      label.textContent = String(week[kpi]);
      svg.appendChild(label);
    });
    return svg;
  }

  var STATUS_TEXT = { draft: "draft", scheduled: "scheduled", sending: "sending", sent: "sent_status",
                      cancelled: "cancelled" };

  function showCampaigns() {
    var ticket = ++showing;
    api("/v1/console/campaigns").then(function (page) {
      var rows = page.campaigns.map(function (campaign) {
        var path = "/v1/console/campaigns/" + encodeURIComponent(campaign.id);
        var actions = el("td", {}, []);
        if (may("campaigns:write") && campaign.status === "draft") {
          actions.appendChild(action(t("schedule"), t("confirm_schedule") + " " + campaign.name, null, path + "/schedule",
                                     showCampaigns));
        }
        if (may("campaigns:write") && (campaign.status === "scheduled" || campaign.status === "sending")) {
          actions.appendChild(action(t("cancel"), t("confirm_cancel") + " " + campaign.name, null, path + "/cancel",
                                     showCampaigns));
        }
        var link = el("a", { href: "#/campaigns/" + encodeURIComponent(campaign.id) }, [campaign.name]);
        return el("tr", { "data-campaign": campaign.id }, [el("td", {}, [link]), el("td", {}, [campaign.sends]),
          el("td", {}, [campaign.segment]), el("td", { "class": "status" }, [t(STATUS_TEXT[campaign.status])]),
          actions]);
      });
      render(ticket, [el("h1", {}, [t("campaigns")]), el("table", {}, [el("thead", {}, [el("tr", {},
        [t("name"), t("sends"), t("segment"), t("status"), ""].map(function (heading) {
          return el("th", { scope: "col" }, [heading]);
        }))]), el("tbody", {}, rows)])]);
    }).catch(fail);
  }

  function rateText(rate) { return rate === null ? "—" : percent(rate, 1); }

  // A sequence as the flow of its steps: who enters, each step's wait, condition and results, what stops it.
  function showSequences() {
    var ticket = ++showing;
    api("/v1/console/sequences").then(function (page) {
      var cards = page.sequences.map(function (sequence) {
        var enters = Object.keys(sequence.enroll).map(function (name) {
          var value = sequence.enroll[name];
          return name + ": " + (Array.isArray(value) ? value.join(", ") : String(value));
        }).join(" / ");
        var steps = sequence.steps.map(function (step) {
          return el("li", { "data-step": step.id }, [
            el("strong", {}, [step.id]), el("span", {}, ["+" + step.delay_days + t("days_after")]),
            el("span", {}, [t(step.condition)]), el("span", { "class": "muted" }, [step.template]),
            el("dl", {}, [el("dt", {}, [t("sent")]), el("dd", { "class": "sent" }, [String(step.sent)]),
              el("dt", {}, [t("open_rate")]), el("dd", {}, [rateText(step.open_rate)]),
              el("dt", {}, [t("click_rate")]), el("dd", {}, [rateText(step.click_rate)])])]);
        });
        var end = [t("stops") + ": " + sequence.stop.join(", ")];
        if (sequence.sunset_days) { end.push(t("sunset") + ": " + sequence.sunset_days + t("days")); }
        return el("section", { "class": "card wide", "data-sequence": sequence.id }, [
          el("h2", {}, [sequence.id]), el("p", {}, [sequence.description]),
          el("p", {}, [t("enters") + ": " + enters]), el("ol", { "class": "flow" }, steps),
          el("p", { "class": "muted" }, [end.join(" · ")])]);
      });
      render(ticket, [el("h1", {}, [t("sequences")])].concat(cards.length ? [el("div", { "class": "cards" }, cards)]
        : [el("p", {}, [t("no_sequences")])]));
    }).catch(fail);
  }

  // The year month by month: how many emails reach a lead of each rank and each campaign segment; none is marked.
  function showCalendar(year) {
    var ticket = ++showing;
    api("/v1/console/calendar" + (year ? "?year=" + year : "")).then(function (calendar) {
      function row(label, months) {
        return el("tr", {}, [el("th", { scope: "row" }, [label])].concat(calendar.months.map(function (month) {
          var names = months[month];
          return names.length ? el("td", { "class": "number", title: names.join("\n") }, [String(names.length)])
            : el("td", { "class": "silent" }, [t("silent")]);
        })));
      }
      var head = el("thead", {}, [el("tr", {}, [el("td", {}, [])].concat(calendar.months.map(function (month) {
        var first = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5)) - 1, 1));
        return el("th", { scope: "col" }, [first.toLocaleDateString(language, { month: "short", timeZone: "UTC" })]);
      })))]);
      var rows = calendar.ranks.map(function (rank) { return row(t("rank_row") + " " + rank.rank, rank.months); })
        .concat(calendar.segments.map(function (segment) { return row(segment.segment, segment.months); }));
      var back = el("button", { type: "button", "class": "quiet" }, [t("previous_year")]);
      var forward = el("button", { type: "button", "class": "quiet" }, [t("next_year")]);
      back.addEventListener("click", function () { showCalendar(calendar.year - 1); });
      forward.addEventListener("click", function () { showCalendar(calendar.year + 1); });
      render(ticket, [el("h1", {}, [t("calendar") + " " + calendar.year]),
        el("div", { "class": "toolbar" }, [back, forward]), el("p", {}, [t("silent_legend")]),
        el("div", { "class": "scroll", tabindex: "0", role: "region", "aria-label": t("calendar") }, [el("table", { "class": "calendar" }, [head, el("tbody", {}, rows)])])]);
    }).catch(fail);
  }

  // A segment's count is a job the audience workers run in parts: started, then asked after until it is done.
  function countSegment(name, said, members) {
    said.textContent = t("counting");
    members.replaceChildren();
    api("/v1/console/segments/" + encodeURIComponent(name) + "/count", "POST").then(function (started) {
      pollJob("/v1/console/segments/jobs/" + started.job_id, function (job) {
        said.textContent = job.leads + t("counted") + job.profiles_scanned + t("counted_end");
        members.replaceChildren(leadTable(job.preview, COLUMNS));
      });
    }).catch(fail);
  }

  function showSegments() {
    var ticket = ++showing;
    api("/v1/console/segments").then(function (page) {
      var said = el("p", { role: "status" }, []);
      var members = el("div", {}, []);
      var rows = page.segments.map(function (segment) {
        var button = el("button", { type: "button", "class": "quiet" }, [t("count")]);
        button.addEventListener("click", function () { countSegment(segment.name, said, members); });
        return el("tr", { "data-segment": segment.name }, [el("td", {}, [segment.name]),
          el("td", {}, [segment.description]), el("td", {}, [button])]);
      });
      render(ticket, [el("h1", {}, [t("segments")]), el("table", {}, [el("thead", {}, [el("tr", {},
        [t("segment"), t("description"), ""].map(function (heading) { return el("th", { scope: "col" }, [heading]); }))]),
        el("tbody", {}, rows)]), said, members]);
    }).catch(fail);
  }

  function showConfig(message) {
    var ticket = ++showing;
    api("/v1/console/config").then(function (config) {
      var active = config.active;
      var facts = el("dl", {}, []);
      [["version", String(active.version)], ["by", active.activated_by || "cdk deploy"],
       ["when", active.activated_at ? when(active.activated_at) : "—"]].forEach(function (pair) {
        facts.appendChild(el("dt", {}, [t(pair[0])]));
        facts.appendChild(el("dd", {}, [pair[1]]));
      });
      var panel = [facts];
      if (active.version > 1 && may("config:write")) {
        panel.push(action(t("rollback"), t("confirm_rollback"), null, "/v1/console/config/rollback", showConfig,
                          { expected_version: active.version }));
      }
      var shown = el("pre", { "class": "diff", hidden: "" }, []);
      var rows = config.versions.map(function (version) {
        var cell = el("td", {}, []);
        if (version.number > 1) {
          var button = el("button", { type: "button", "class": "quiet" }, [t("show_diff")]);
          button.addEventListener("click", function () {
            api("/v1/console/config/versions/" + version.number + "/diff").then(function (changed) {
              shown.textContent = changed.diff;
              shown.hidden = false;
            }).catch(fail);
          });
          cell.appendChild(button);
        }
        return el("tr", { "data-version": String(version.number) }, [el("td", { "class": "number" }, [String(version.number)]),
          el("td", {}, [version.pushed_by]), el("td", {}, [version.pushed_at ? when(version.pushed_at) : "—"]), cell]);
      });
      var table = el("table", {}, [el("thead", {}, [el("tr", {}, [t("version"), t("by"), t("when"), ""].map(
        function (heading) { return el("th", { scope: "col" }, [heading]); }))]), el("tbody", {}, rows)]);
      var said = el("p", { role: "status" }, [typeof message === "string" ? message : ""]);
      render(ticket, [el("h1", {}, [t("config")]), said, el("div", { "class": "cards" }, [
        card(t("active_version"), panel), card(t("propose"), [proposal(said)], true),
        card(t("version"), [table, shown], true)])]);
    }).catch(fail);
  }

  // One file of the active version edited in place, checked as a push would check it (problems, or the diff),
  // then published by an admin over the version the page read: a newer one makes the push a 409.
  function proposal(said) {
    var form = el("form", { "class": "proposal" }, []);
    api("/v1/console/config/files").then(function (active) {
      var names = Object.keys(active.files).sort();
      var file = el("select", { name: "file" }, names.map(function (name) { return el("option", { value: name }, [name]); }));
      var text = el("textarea", { name: "text", rows: "16", spellcheck: "false" }, []);
      var check = el("button", { type: "submit" }, [t("check")]);
      var problems = el("ul", { "class": "problems" }, []);
      var diff = el("pre", { "class": "diff", hidden: "" }, []);
      var publish = el("button", { type: "button", hidden: "" }, [t("push")]);
      function load() { text.value = active.files[file.value]; diff.hidden = publish.hidden = true; }
      function change() { var files = {}; files[file.value] = text.value; return files; }
      file.addEventListener("change", load);
      text.addEventListener("input", function () { diff.hidden = publish.hidden = true; problems.replaceChildren(); });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var proposal = { files: change(), expected_version: active.version };
        api("/v1/console/config/check", "POST", proposal).then(function (checked) {
          problems.replaceChildren.apply(problems, checked.problems.map(function (problem) { return el("li", {}, [problem]); }));
          said.textContent = checked.problems.length ? checked.problems.length + t("problems_found") : t("no_problems");
          diff.textContent = checked.diff;
          diff.hidden = !checked.diff;
          publish.hidden = !(checked.problems.length === 0 && checked.diff && may("config:write"));
        }).catch(function (error) { said.textContent = failure(error); });  // the edit stays on the page
      });
      publish.addEventListener("click", function () {
        if (!window.confirm(t("confirm_push"))) { return; }
        publish.disabled = true;
        api("/v1/console/config/push", "POST", { files: change(), expected_version: active.version })
          .then(function (pushed) { showConfig(t("pushed") + pushed.version); })
          .catch(function (error) { publish.disabled = false; said.textContent = failure(error); });
      });
      load();
      form.append(el("label", {}, [t("file"), file]), el("label", {}, [t("contents"), text]), check,
                  el("div", { role: "alert" }, [problems]), diff, publish);
    }).catch(fail);
    return form;
  }

  // A campaign's test to one of its seeds, in the sample lead's language: the sender sends it, marked as a test.
  function testForm(path, seeds) {
    var to = el("select", { name: "to" }, seeds.map(function (seed) { return el("option", { value: seed }, [seed]); }));
    var chosen = el("select", { name: "language" }, ["ja", "en"].map(function (code) {
      return el("option", { value: code }, [code]);
    }));
    var said = el("p", { role: "status" }, []);
    var form = el("form", { "class": "test-send" }, [el("label", {}, [t("seed"), to]),
      el("label", {}, [t("language_label"), chosen]), el("button", { type: "submit" }, [t("send_test")]), said]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      said.textContent = "";
      api(path + "/test", "POST", { to: to.value, language: chosen.value }).then(function () {
        said.textContent = t("test_queued");
      }).catch(fail);
    });
    return form;
  }

  function showCampaign(campaignId) {
    var ticket = ++showing;
    var path = "/v1/console/campaigns/" + encodeURIComponent(campaignId);
    Promise.all([api(path), api(path + "/preview")]).then(function (answers) {
      var campaign = answers[0], previews = answers[1].previews;
      var facts = el("dl", {}, []);
      [["status", t(STATUS_TEXT[campaign.status])], ["sends", campaign.sends], ["segment", campaign.segment],
       ["by", campaign.scheduled_by || "—"]].forEach(function (pair) {
        facts.appendChild(el("dt", {}, [t(pair[0])]));
        facts.appendChild(el("dd", {}, [pair[1]]));
      });
      var counts = el("dl", {}, []);
      Object.keys(campaign.counts).sort().forEach(function (name) {
        counts.appendChild(el("dt", {}, [t(name)]));
        counts.appendChild(el("dd", { "class": "number" }, [String(campaign.counts[name])]));
      });
      var shown = previews.map(function (preview) {
        var label = preview.language + (preview.variant ? " · " + preview.variant.toUpperCase() : "");
        return el("article", { "class": "preview", lang: preview.language }, [el("h3", {}, [label]),
          el("p", {}, [t("subject") + ": " + preview.subject]), el("pre", {}, [preview.text])]);
      });
      var cards = [card(t("status"), [facts]),
        card(t("counts"), [Object.keys(campaign.counts).length ? counts : el("p", {}, ["—"])])];
      if (may("campaigns:write") && campaign.seeds.length) { cards.push(card(t("test_send"), [testForm(path, campaign.seeds)])); }
      render(ticket, [el("h1", {}, [campaign.name]), el("div", { "class": "cards" },
        cards.concat([card(t("preview"), shown, true)]))]);
    }).catch(fail);
  }

  function route() {
    if (!token()) { showSignIn(); return; }
    document.getElementById("sign-in").hidden = true;
    document.getElementById("sign-out").hidden = false;
    var lead = location.hash.match(/^#\/leads\/(.+)$/), campaign = location.hash.match(/^#\/campaigns\/(.+)$/);
    var leadId = null, campaignId = null;
    try {
      leadId = lead ? decodeURIComponent(lead[1]) : null;
      campaignId = campaign ? decodeURIComponent(campaign[1]) : null;
    } catch (malformed) { leadId = campaignId = null; }
    var shown = me ? Promise.resolve(me) : api("/v1/console/me").then(function (found) {
      me = found;
      document.getElementById("user").textContent = (me.email || "") + " (" + me.groups.join(", ") + ")";
      // Only the pages the user's groups may open.
      document.querySelector("nav a[href='#/home']").hidden = !may("home:read");
      ["#/campaigns", "#/sequences", "#/calendar"].forEach(function (page) {
        document.querySelector("nav a[href='" + page + "']").hidden = !may("campaigns:read");
      });
      document.querySelector("nav a[href='#/config']").hidden = !may("config:read");
      document.querySelector("nav a[href='#/segments']").hidden = !may("segments:read");
      document.querySelector("nav a[href='#/search']").hidden = !may("leads:read_all");
      return me;
    });
    shown.then(function () {
      if (leadId) { showLead(leadId); } else if (campaignId) { showCampaign(campaignId); }
      else if (location.hash === "#/home") { showHome(); }
      else if (location.hash === "#/campaigns") { showCampaigns(); } else if (location.hash === "#/config") { showConfig(); }
      else if (location.hash === "#/segments") { showSegments(); }
      else if (location.hash === "#/search") { showSearch(); }
      else if (location.hash === "#/sequences") { showSequences(); } else if (location.hash === "#/calendar") { showCalendar(); }
      else { showLeads({ rank: "A" }); }
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
