// Every German text of the widget in one place (translate by adding a language here).
window.AuskunftTexts = {
  de: {
    greeting: "Hallo! Ich bin der digitale Assistent. Wie kann ich Ihnen helfen?",
    placeholder: "Ihre Nachricht …",
    send: "Senden",
    close: "Chat schließen",
    typingBot: "Der Assistent schreibt …",
    typingAgent: "Ein Mitarbeiter schreibt …",
    you: "Sie",
    bot: "Assistent",
    agent: "Kundenservice",
    error: "Die Nachricht konnte nicht gesendet werden. Bitte versuchen Sie es erneut.",
    closed: "Dieses Gespräch ist beendet. Schreiben Sie einfach weiter, um ein neues zu beginnen.",
    contactLabel: "E-Mail-Adresse oder Telefonnummer",
    contactSend: "Hinterlassen",
    contactInvalid: "Bitte geben Sie eine gültige E-Mail-Adresse oder Telefonnummer an.",
  },
};
