/* The worker page's step forms (loaded by assets/worker.js): a reason to decline, a note and
 * photos to resolve. A camera photo is made small on the phone before it joins the queue
 * (as a data: URL, so it survives a reload), and becomes a file again when it is sent. */
(function () {
  "use strict";
  const gw = window.gridWorker;
  if (!gw || !gw.state) return;
  const { V, $, q, say, showError } = gw;
  const MAX_PHOTOS = 6;
  const PHOTO_EDGE = 1600;

  function openForm(node, task, from, step) {
    const slot = q(node, ".w-slot");
    const form = $("tpl-step").content.firstElementChild.cloneNode(true);
    const text = q(form, "textarea");
    text.maxLength = V.max_text;
    say(q(form, ".w-ask"), step.reason ? "退单原因（必填）" : "处理情况（必填）",
      step.reason ? "Reason (required)" : "What was done (required)");
    text.placeholder = step.reason ? "例如：不在本网格 / 需专业部门处理" : "例如：已清理杂物，通道畅通";
    say(q(form, "button[type=submit]"), step.zh, step.en);
    const photos = [];
    const photoBox = q(form, ".w-photos");
    photoBox.hidden = !step.photos;
    const error = q(form, ".w-error");
    q(form, "input[type=file]").addEventListener("change", async (e) => {
      const file = e.target.files && e.target.files[0];
      e.target.value = "";
      if (!file) return;
      if (photos.length >= MAX_PHOTOS) return showError(error, "最多 " + MAX_PHOTOS + " 张照片",
        "At most " + MAX_PHOTOS + " photos");
      try {
        const url = await shrink(file);
        photos.push(url);
        const li = document.createElement("li");
        const img = document.createElement("img");
        img.src = url;
        img.alt = "现场照片 " + photos.length;
        li.appendChild(img);
        q(form, ".w-thumbs").appendChild(li);
        error.hidden = true;
      } catch (err) {
        showError(error, "无法读取这张照片", "This picture could not be read");
      }
    });
    q(form, ".w-cancel").addEventListener("click", () => {
      slot.replaceChildren();
      gw.tasks.actions(node, node._task, node._eff);
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const words = text.value.trim();
      if (!words) {
        showError(error, step.reason ? "请填写退单原因" : "请填写处理情况",
          step.reason ? "A reason is required" : "Say what was done");
        text.focus();
        return;
      }
      slot.replaceChildren();
      const extra = step.reason ? { reason: words } : { note: words, photos };
      gw.tasks.stepNow(task, from, step, extra);
    });
    slot.replaceChildren(form);
    q(node, ".w-actions").replaceChildren();
    text.focus();
  }

  // --- photos ---------------------------------------------------------------------------------
  /** A camera photo made small enough for a weak connection and the offline queue. */
  function shrink(file) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      const url = URL.createObjectURL(file);
      img.onload = () => {
        URL.revokeObjectURL(url);
        const scale = Math.min(1, PHOTO_EDGE / Math.max(img.naturalWidth, img.naturalHeight));
        const canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
        canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        resolve(canvas.toDataURL("image/jpeg", 0.72));
      };
      img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("unreadable")); };
      img.src = url;
    });
  }

  /** A queued photo (a data: URL) as a file to upload. */
  function dataUrlBlob(url) {
    const [head, b64] = url.split(",");
    const type = (head.match(/data:([^;]+)/) || [])[1] || "image/jpeg";
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
    return new Blob([bytes], { type });
  }

  gw.steps = { openForm, dataUrlBlob };
})();
