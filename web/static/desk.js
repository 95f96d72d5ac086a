/* The cross-check desk without the mouse (web/desk.py):
   A agrees · D (or 1–7, choosing the kind) a discrepancy · Enter signs · J/K next/previous
   item · ←/→ previous/next scan · / the box barcode field · Esc leaves a field. */
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  var form = document.getElementById("check-form");
  var barcode = document.getElementById("barcode");
  if (!desk || !form) { return; }
  var agrees = document.getElementById("result-agrees");
  var differs = document.getElementById("result-discrepancy");
  var fields = document.getElementById("discrepancy-fields");
  var kind = document.getElementById("kind");
  var pages = document.getElementById("pages");
  var sign = document.getElementById("sign");

  function showFields() {
    fields.hidden = !differs.checked;
  }
  function choose(radio) {
    radio.checked = true;
    showFields();
  }
  agrees.addEventListener("change", showFields);
  differs.addEventListener("change", showFields);
  showFields();

  // the scans: a thumbnail shows its page in the full view, without leaving the item
  var thumbs = Array.prototype.slice.call(document.querySelectorAll("#thumbs .thumb-btn"));
  var full = document.getElementById("full-view");
  var caption = document.getElementById("full-caption");
  function show(i) {
    if (i < 0 || i >= thumbs.length) { return; }
    var t = thumbs[i];
    thumbs.forEach(function (x) { x.classList.remove("selected"); });
    t.classList.add("selected");
    if (full && t.dataset.full) {
      full.src = t.dataset.full;
      full.alt = t.querySelector("img") ? t.querySelector("img").alt : "";
    }
    if (caption) { caption.textContent = caption.textContent.replace(/\d+/, t.dataset.n); }
    t.scrollIntoView({block: "nearest"});
  }
  function current() {
    for (var i = 0; i < thumbs.length; i++) {
      if (thumbs[i].classList.contains("selected")) { return i; }
    }
    return 0;
  }
  thumbs.forEach(function (t, i) {
    t.addEventListener("click", function (ev) {
      if (!full || !t.dataset.full) { return; }  // no image yet: follow the link
      ev.preventDefault();
      show(i);
    });
  });

  function typing(el) {
    return el && (el.tagName === "INPUT" && el.type !== "radio" || el.tagName === "TEXTAREA");
  }
  function submit() {
    if (typeof form.requestSubmit === "function") { form.requestSubmit(sign); } else { form.submit(); }
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var el = document.activeElement;
    if (ev.key === "Escape") { if (el && el.blur) { el.blur(); } return; }
    if (el && el.tagName === "SELECT") {
      if (ev.key === "Enter") { ev.preventDefault(); submit(); }
      return;
    }
    if (typing(el)) { return; }  // a field takes its keys (Enter there submits its form)
    var key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    if (key === "a") {
      ev.preventDefault(); choose(agrees); sign.focus();
    } else if (key === "d") {
      ev.preventDefault(); choose(differs); kind.focus();
    } else if (/^[1-9]$/.test(key) && Number(key) <= kind.options.length) {
      ev.preventDefault(); choose(differs); kind.selectedIndex = Number(key) - 1; pages.focus();
    } else if (key === "Enter") {
      if (el === sign || (el && el.tagName === "BUTTON") || (el && el.tagName === "A")) { return; }
      ev.preventDefault(); submit();
    } else if (key === "j" && desk.dataset.next) {
      ev.preventDefault(); window.location.href = desk.dataset.next;
    } else if (key === "k" && desk.dataset.prev) {
      ev.preventDefault(); window.location.href = desk.dataset.prev;
    } else if (key === "ArrowRight") {
      ev.preventDefault(); show(current() + 1);
    } else if (key === "ArrowLeft") {
      ev.preventDefault(); show(current() - 1);
    } else if (key === "/" && barcode) {
      ev.preventDefault(); barcode.focus();
    }
  });
})();
