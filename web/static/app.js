/* dangan: page viewer, upload with progress, 档号 preview, label printing. No dependencies. */
(function () {
  "use strict";

  var LANG = document.body.getAttribute("data-lang") || "zh_CN";

  /* Service messages are "中文 / English": keep the half in the page's language. */
  function localize(msg) {
    if (!msg) return "";
    var re = /\s*\/\s+(?=[A-Z"'“(])/g, m;
    while ((m = re.exec(msg)) !== null) {
      var left = msg.slice(0, m.index);
      if (/[\u3400-\u9fff]/.test(left)) {
        return LANG === "en" ? msg.slice(m.index + m[0].length).trim() : left.trim();
      }
    }
    return msg;
  }

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] !== undefined ? values[k] : ""; });
  }

  function humanSize(n) {
    var units = ["B", "KB", "MB", "GB"], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + "\u00a0" + units[i];  // no line break inside a size
  }

  /* ---------------------------------------------------------------- viewer */
  function initViewer() {
    var frame = document.getElementById("page-frame");
    var scroller = document.getElementById("page-scroll");
    var out = document.getElementById("zoom-level");
    if (!scroller) return;
    var zoom = parseFloat(sessionStorage.getItem("dangan-zoom") || "1") || 1;
    function apply() {
      if (frame) frame.style.width = Math.round(zoom * 100) + "%";
      if (out) out.textContent = Math.round(zoom * 100) + "%";
      sessionStorage.setItem("dangan-zoom", String(zoom));
    }
    function set(z) { zoom = Math.max(0.5, Math.min(4, z)); apply(); }
    var zin = document.getElementById("zoom-in"), zout = document.getElementById("zoom-out"),
        zfit = document.getElementById("zoom-fit");
    if (zin) zin.addEventListener("click", function () { set(zoom * 1.25); });
    if (zout) zout.addEventListener("click", function () { set(zoom / 1.25); });
    if (zfit) zfit.addEventListener("click", function () { set(1); });
    apply();
    /* bring the first hit into view when zoomed in */
    var hit = document.querySelector(".hitbox");
    if (hit && zoom > 1 && hit.scrollIntoView) hit.scrollIntoView({ block: "center", inline: "center" });
    document.addEventListener("keydown", function (e) {
      var t = e.target && e.target.tagName;
      if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || e.altKey || e.ctrlKey || e.metaKey) return;
      var link = null;
      if (e.key === "ArrowLeft" || e.key === "PageUp") link = document.getElementById("prev-page");
      if (e.key === "ArrowRight" || e.key === "PageDown") link = document.getElementById("next-page");
      if (e.key === "+" || e.key === "=") { set(zoom * 1.25); e.preventDefault(); }
      if (e.key === "-") { set(zoom / 1.25); e.preventDefault(); }
      if (link && link.href) { window.location.href = link.href; e.preventDefault(); }
    });
  }

  /* ---------------------------------------------------------------- upload */
  function initUpload() {
    var form = document.getElementById("upload-form");
    if (!form) return;
    var T = {};
    var tpl = document.getElementById("i18n");
    if (tpl) Array.prototype.forEach.call(tpl.content.querySelectorAll("[data-key]"), function (el) {
      T[el.getAttribute("data-key")] = el.textContent;
    });
    var input = document.getElementById("files");
    var zone = document.getElementById("dropzone");
    var list = document.getElementById("file-list");
    var summary = document.getElementById("file-summary");
    var errBox = document.getElementById("upload-error");
    var button = document.getElementById("upload-button");
    var reset = document.getElementById("upload-reset");
    var csrf = form.querySelector("input[name=csrf_token]").value;
    var chosen = [];
    var BATCH_FIELDS = ["fonds", "category", "year", "retention", "secrecy", "org"];

    function showError(msg) {
      errBox.textContent = msg;
      errBox.hidden = !msg;
      if (msg) errBox.scrollIntoView({ block: "nearest" });
    }

    function renderFiles() {
      list.textContent = "";
      var total = 0;
      chosen.forEach(function (f, i) {
        total += f.size;
        var li = document.createElement("li");
        var name = document.createElement("span");
        name.textContent = f.name;
        var size = document.createElement("span");
        size.className = "muted";
        size.textContent = humanSize(f.size);
        var rm = document.createElement("button");
        rm.type = "button";
        rm.className = "linkish";
        rm.textContent = "✕";
        rm.setAttribute("aria-label", "remove " + f.name);
        rm.addEventListener("click", function () { chosen.splice(i, 1); renderFiles(); });
        li.appendChild(name); li.appendChild(size); li.appendChild(rm);
        list.appendChild(li);
      });
      summary.textContent = chosen.length ? fmt(T.files, { n: chosen.length, size: humanSize(total) }) : T.nofiles;
    }

    function addFiles(files) {
      Array.prototype.forEach.call(files, function (f) { chosen.push(f); });
      renderFiles();
      showError("");
    }

    input.addEventListener("change", function () { addFiles(input.files); input.value = ""; });
    ["dragenter", "dragover"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) { if (e.dataTransfer) addFiles(e.dataTransfer.files); });

    /* live 档号 preview */
    var previewOut = document.getElementById("code-preview");
    var previewErr = document.getElementById("code-preview-error");
    var timer = null;
    function preview() {
      var p = new URLSearchParams();
      ["fonds", "category", "year", "retention", "org"].forEach(function (k) {
        var el = form.elements[k];
        if (el && el.value) p.set(k, el.value);
      });
      fetch(form.getAttribute("data-preview") + "?" + p.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, d: d }; }); })
        .then(function (res) {
          if (res.ok) { previewOut.textContent = res.d.archival_code; previewErr.textContent = ""; }
          else { previewOut.textContent = "—"; previewErr.textContent = localize(res.d.error); }
        })
        .catch(function () {});
    }
    ["fonds", "category", "year", "retention", "org"].forEach(function (k) {
      var el = form.elements[k];
      if (!el) return;
      el.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(preview, 250); });
      el.addEventListener("change", preview);
    });
    preview();

    function setProgress(id, pct, text) {
      document.getElementById(id + "-block").hidden = false;
      document.getElementById(id).value = pct;
      document.getElementById(id + "-text").textContent = text;
    }

    function listFailed(failed) {
      var block = document.getElementById("failed-block");
      var ul = document.getElementById("failed-list");
      ul.textContent = "";
      (failed || []).forEach(function (f) {
        var li = document.createElement("li");
        var b = document.createElement("strong");
        b.textContent = f.name || ("p. " + f.page);
        li.appendChild(b);
        li.appendChild(document.createTextNode("：" + localize(f.reason || f.code || "")));
        ul.appendChild(li);
      });
      block.hidden = !ul.children.length;
    }

    /* files already stored: each one, with a link to its item where the user may open it */
    function listExisting(existing) {
      var ul = document.getElementById("upload-existing");
      ul.textContent = "";
      (existing || []).forEach(function (e) {
        var li = document.createElement("li");
        var b = document.createElement("strong");
        b.textContent = e.name;
        li.appendChild(b);
        li.appendChild(document.createTextNode("："));
        if (e.id) {
          var a = document.createElement("a");
          a.href = form.getAttribute("data-item").replace(/\/0$/, "/" + e.id);
          a.textContent = fmt(T.open_code, { code: e.archival_code });
          li.appendChild(a);
        } else {
          li.appendChild(document.createTextNode(T.stored));
        }
        ul.appendChild(li);
      });
      ul.hidden = !ul.children.length;
    }

    function finish(data, itemUrl) {
      var done = document.getElementById("upload-done");
      done.textContent = "";
      var failed = data.status === "failed" || data.status === "partial";
      done.className = "notice " + (failed ? "notice-error" : "notice-success");
      done.appendChild(document.createTextNode(fmt(failed ? T.done_failed : T.done, { code: data.archival_code }) + " "));
      var a = document.createElement("a");
      a.href = itemUrl; a.id = "open-item"; a.textContent = T.open;
      done.appendChild(a);
      done.hidden = false;
      reset.hidden = false;
      previewOut.textContent = "—";
      preview();
    }

    function poll(data) {
      var url = form.getAttribute("data-progress").replace(/\/0\/progress$/, "/" + data.id + "/progress");
      var itemUrl = form.getAttribute("data-item").replace(/\/0$/, "/" + data.id);
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (p) {
        var total = p.pages_total || 0;
        var pct = total ? Math.round(100 * p.pages_done / total) : 100;
        setProgress("ocr-progress", pct, fmt(T.pages, { done: p.pages_done, total: total }));
        listFailed((p.failed_files || []).concat(p.failed_pages || []));
        if (p.status === "processing") { setTimeout(function () { poll(data); }, 800); return; }
        if (p.status === "failed" && !total) showError(T.failed_item);
        finish(p, itemUrl);
      }).catch(function () { setTimeout(function () { poll(data); }, 2000); });
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      showError("");
      listExisting([]);
      listFailed([]);
      if (!chosen.length) { showError(T.nofile_error); return; }
      var fd = new FormData(form);
      fd.delete("files");
      chosen.forEach(function (f) { fd.append("files", f, f.name); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("data-api"));
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) {
          setProgress("upload-progress", Math.round(100 * ev.loaded / ev.total),
                      humanSize(ev.loaded) + " / " + humanSize(ev.total));
        }
      };
      xhr.onload = function () {
        button.disabled = false;
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (err) { data = null; }
        if (xhr.status === 201 || xhr.status === 200) {
          setProgress("upload-progress", 100, fmt(T.registered, { code: data.archival_code }));
          listFailed(data.failed_files);
          chosen = []; renderFiles();
          button.disabled = true;
          poll(data);
        } else if (xhr.status === 413) {
          showError(localize(data && data.error) || T.too_large);
        } else {
          showError(localize(data && data.error) || (xhr.status + " " + xhr.statusText));
          listExisting(data && data.existing);
          listFailed(data && data.failed_files);
        }
      };
      xhr.onerror = function () { button.disabled = false; showError(T.network); };
      button.disabled = true;
      setProgress("upload-progress", 0, T.uploading);
      document.getElementById("ocr-progress-block").hidden = true;
      document.getElementById("upload-done").hidden = true;
      xhr.send(fd);
    });

    reset.addEventListener("click", function () {
      button.disabled = false;
      reset.hidden = true;
      ["upload-progress-block", "ocr-progress-block", "failed-block", "upload-done"].forEach(function (id) {
        document.getElementById(id).hidden = true;
      });
      /* the next item shares only the batch's fields; its own fields start empty */
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || BATCH_FIELDS.indexOf(el.name) >= 0 || el.type === "hidden" ||
            el.type === "file" || el.tagName === "BUTTON") return;
        if (el.tagName === "SELECT") el.selectedIndex = 0; else el.value = "";
      });
      listExisting([]);
      form.elements.title.focus();
    });
  }

  /* a field whose pattern does not match says what the format is, in our words */
  function initPatternMessages() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-pattern-message]"), function (el) {
      function check() {
        el.setCustomValidity("");
        if (el.validity.patternMismatch) el.setCustomValidity(el.getAttribute("data-pattern-message"));
      }
      el.addEventListener("input", check);
      check();
    });
  }

  function initLabel() {
    var b = document.getElementById("print-label");
    if (b) b.addEventListener("click", function () { window.print(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initViewer();
    initUpload();
    initLabel();
    initPatternMessages();
  });
})();
