// The queue page reloads itself every 5 s (a file, not an inline script: the CSP allows no inline code).
setTimeout(() => location.reload(), 5000);
