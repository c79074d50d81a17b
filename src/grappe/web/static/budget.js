// The application form's budget lines: add a line (a copy of the last one, emptied) and remove
// one. Without JavaScript the form keeps its fixed empty lines and works the same.
"use strict";

function renumber(fieldset) {
  fieldset.querySelectorAll("[data-budget-row]").forEach((row, index) => {
    const n = String(index + 1);
    row.querySelector(".budget__line").textContent =
      row.querySelector(".budget__line").textContent.replace(/\d+/, n);
    row.querySelectorAll("input").forEach((input) => {
      const label = row.querySelector(`label[for="${input.id}"]`);
      input.id = input.id.replace(/-\d+$/, `-${n}`);
      if (label) {
        label.htmlFor = input.id;
        const hidden = label.querySelector(".visually-hidden");
        if (hidden) hidden.textContent = hidden.textContent.replace(/\d+/, n);
      }
    });
    const error = row.querySelector(".field__error");
    if (error) {
      error.id = `f-row-${n}-error`;
      row.querySelectorAll("[aria-describedby]").forEach((input) => {
        input.setAttribute("aria-describedby", error.id);
      });
    }
    const remove = row.querySelector("[data-budget-remove]");
    remove.disabled = fieldset.querySelectorAll("[data-budget-row]").length === 1;
  });
}

function addRemoveButton(fieldset, row) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button--link";
  button.dataset.budgetRemove = "";
  button.textContent = fieldset.dataset.removeLabel;
  button.addEventListener("click", () => {
    row.remove();
    renumber(fieldset);
    fieldset.querySelector("[data-budget-row] input").focus();
  });
  row.append(button);
}

function setUp(fieldset) {
  const add = fieldset.querySelector("[data-budget-add]");
  fieldset.querySelectorAll("[data-budget-row]").forEach((row) => addRemoveButton(fieldset, row));
  add.hidden = false;
  add.addEventListener("click", () => {
    const rows = fieldset.querySelectorAll("[data-budget-row]");
    const copy = rows[rows.length - 1].cloneNode(true);
    copy.classList.remove("budget__row--error");
    copy.querySelectorAll(".field__error, [data-budget-remove]").forEach((node) => node.remove());
    copy.querySelectorAll("input").forEach((input) => {
      input.value = "";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    });
    add.before(copy);
    addRemoveButton(fieldset, copy);
    renumber(fieldset);
    copy.querySelector("input").focus();
  });
  renumber(fieldset);
}

document.querySelectorAll("[data-budget]").forEach(setUp);
