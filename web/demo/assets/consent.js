/* The demo site's cookie banner: the snippet waits (data-require-consent) until the visitor answers. */
(function () {
  var KEY = "miraistock-consent";
  var banner = document.getElementById("consent");
  var answer = null;
  try { answer = localStorage.getItem(KEY); } catch (blocked) { /* storage off: ask on every page */ }
  function decide(granted) {
    try { localStorage.setItem(KEY, granted ? "granted" : "declined"); } catch (blocked) { /* as above */ }
    if (window.Nurture) window.Nurture("consent", granted); // by name: the stub or the snippet alike
    banner.hidden = true;
  }
  if (!banner) return;
  if (answer === "granted" && window.Nurture) window.Nurture("consent", true);
  if (answer) return;
  banner.hidden = false;
  banner.querySelector("[data-consent=accept]").addEventListener("click", function () { decide(true); });
  banner.querySelector("[data-consent=decline]").addEventListener("click", function () { decide(false); });
})();
