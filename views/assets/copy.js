// Copy buttons: <button data-copy="element-id">. Served from our origin (the CSP allows no inline script).
for (const button of document.querySelectorAll('[data-copy]')) {
  button.addEventListener('click', async () => {
    const target = document.getElementById(button.getAttribute('data-copy'));
    const text = target.value ?? target.textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      if (target.select) target.select();
      document.execCommand('copy');
    }
    const label = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => (button.textContent = label), 1500);
  });
}
