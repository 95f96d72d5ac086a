/* Batch import: the sheet, then each scan in a request of its own (a batch may be far
   larger than one request may be), with the upload's progress; then the registration's
   and the OCR's progress on the run page. */
(function () {
  "use strict";

  function texts() {
    var T = {};
    var tpl = document.getElementById("i18n");
    if (tpl) Array.prototype.forEach.call(tpl.content.querySelectorAll("[data-key]"), function (el) {
      T[el.getAttribute("data-key")] = el.textContent;
    });
    return T;
  }

  function fill(s, vals) {
    return s.replace(/\{(\w+)\}/g, function (_m, k) { return vals[k]; });
  }

  function humanSize(n) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }

  function send(url, data, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("Accept", "application/json");
      if (onProgress) xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else reject(new Error(body.error || xhr.statusText || String(xhr.status)));
      };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.send(data);
    });
  }

  function initForm() {
    var form = document.getElementById("import-form");
    if (!form) return;
    var T = texts();
    var csrf = form.querySelector("input[name=csrf_token]").value;
    var inputs = [document.getElementById("scan-folder"), document.getElementById("scan-files")];
    var summary = document.getElementById("import-summary");
    var errBox = document.getElementById("import-error");
    var block = document.getElementById("import-progress-block");
    var bar = document.getElementById("import-progress");
    var barText = document.getElementById("import-progress-text");
    var button = document.getElementById("import-button");

    function chosen() {
      var out = [];
      inputs.forEach(function (inp) {
        Array.prototype.forEach.call(inp.files || [], function (f) { out.push(f); });
      });
      return out;
    }
    inputs.forEach(function (inp) {
      inp.addEventListener("change", function () {
        var files = chosen();
        var size = files.reduce(function (a, f) { return a + f.size; }, 0);
        summary.textContent = fill(T.files, { n: files.length, size: humanSize(size) });
      });
    });

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      errBox.hidden = true;
      var sheet = document.getElementById("sheet").files[0];
      if (!sheet) return;
      var files = chosen();
      var total = files.reduce(function (a, f) { return a + f.size; }, 0) || 1;
      var sent = 0;
      button.disabled = true;
      block.hidden = false;
      var fd = new FormData();
      fd.append("csrf_token", csrf);
      fd.append("sheet", sheet);
      send(form.action, fd).then(function (batch) {
        var i = 0;
        function next() {
          barText.textContent = fill(T.uploading, { done: i, total: files.length });
          if (i >= files.length) { window.location.href = batch.check; return null; }
          var f = files[i];
          var part = new FormData();
          part.append("csrf_token", csrf);
          part.append("path", f.webkitRelativePath || f.name);
          part.append("scans", f, f.name);
          return send(batch.files, part, function (loaded) {
            bar.value = Math.round(100 * (sent + loaded) / total);
          }).then(function () { sent += f.size; i += 1; bar.value = Math.round(100 * sent / total); return next(); });
        }
        return next();
      }).catch(function (err) {
        button.disabled = false;
        errBox.textContent = err.message === "network" ? T.network : err.message;
        errBox.hidden = false;
      });
    });
  }

  function initRun() {
    var box = document.getElementById("import-run");
    if (!box) return;
    var T = texts();
    var wasRunning = box.getAttribute("data-running") === "1";
    var reg = document.getElementById("register-progress");
    var regText = document.getElementById("register-progress-text");
    var ocr = document.getElementById("ocr-progress");
    var ocrText = document.getElementById("ocr-progress-text");
    var status = document.getElementById("run-status");

    function poll() {
      fetch(box.getAttribute("data-state"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.total) {
            reg.value = Math.round(100 * s.done / s.total);
            regText.textContent = fill(T.rows, { done: s.done, total: s.total });
          }
          if (!s.running && wasRunning) { window.location.reload(); return; }
          var o = s.ocr || {};
          var settled = (o.done || 0) + (o.failed || 0);
          if (o.pages) {
            ocr.value = Math.round(100 * settled / o.pages);
            ocrText.textContent = fill(T.pages, { done: settled, total: o.pages });
          }
          if (s.running) { status.textContent = T.running; }
          else if (s.error) { status.textContent = s.error; status.className = "notice notice-error"; return; }
          else if (o.pages && settled >= o.pages && !o.processing) {
            reg.value = 100;
            status.textContent = T.finished; status.className = "notice notice-success"; return;
          } else { reg.value = 100; status.textContent = T.ocr; }
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    poll();
  }

  initForm();
  initRun();
})();
