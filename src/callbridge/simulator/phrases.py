"""What simulated callers, agents and the IVR say: a few topics, each with its lines, mood and categories."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    department: str = "Support"  # the call attribute Department__c (the demo's support flow routes Billing by skill)
    line: int = 0  # which dialed number: 0 the first phone channel (support), 1 the second (sales)
    language: str | None = None  # a flow input: the demo routes "es" to the Spanish queue
    reason: str = ""  # what the caller tells the IVR
    opener: tuple[str, ...] = ()
    customer: tuple[str, ...] = ()
    agent: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    mood: int = 0  # the customer's real-time sentiment at the start, -1000..1000
    card: bool = False  # the agent pauses the recording while the customer reads a card number


TOPICS: tuple[Topic, ...] = (
    Topic(
        "billing",
        department="Billing",
        reason="A question about my bill.",
        opener=(
            "Hi, I was charged twice for my subscription this month.",
            "Hello, my last invoice is much higher than usual and I don't understand why.",
        ),
        customer=(
            "The second charge came on the fifteenth.",
            "I've been a customer for six years and this never happened before.",
            "Can you refund the extra amount to my card?",
            "Yes, that's the account under my name.",
        ),
        agent=(
            "I can see both charges on your account, I'm sorry about that.",
            "Could you confirm the email address on the account?",
            "I've started a refund, it takes three to five business days.",
            "The extra amount comes from the plan change you made last month.",
        ),
        categories=("BillingQuestion", "RefundRequest"),
        mood=-300,
        card=True,
    ),
    Topic(
        "outage",
        reason="My internet is down.",
        opener=("My internet has been down since this morning and I work from home.",),
        customer=(
            "I already restarted the router twice.",
            "All the lights are on except the one for the connection.",
            "This is the third time this month, honestly.",
            "Okay, it's blinking green now.",
        ),
        agent=(
            "I'm sorry about that, let me run a line test.",
            "There is a maintenance in your area that should end within the hour.",
            "Could you unplug the router for thirty seconds and plug it back in?",
            "I've added a credit for the downtime to your account.",
        ),
        categories=("ServiceOutage", "CustomerAngry"),
        mood=-700,
    ),
    Topic(
        "order",
        reason="Where is my order?",
        opener=("Hi, I ordered a phone last week and it still hasn't arrived.",),
        customer=(
            "The order number is four five seven two.",
            "The tracking page hasn't changed in three days.",
            "Can you send it to my office instead?",
            "Great, thank you.",
        ),
        agent=(
            "Let me look that order up for you.",
            "The parcel is at the local depot and goes out for delivery tomorrow.",
            "I've updated the delivery address.",
            "You'll get a text message with the new tracking link.",
        ),
        categories=("OrderStatus",),
        mood=-100,
    ),
    Topic(
        "upgrade",
        department="Sales",
        line=1,
        reason="I'd like to upgrade my plan.",
        opener=("Hi, I'd like to know what plans you have with more data.",),
        customer=(
            "I use about forty gigabytes a month.",
            "Does that include calls abroad?",
            "That sounds good, let's do it.",
            "Can it start from the next billing cycle?",
        ),
        agent=(
            "The unlimited plan would suit you best.",
            "It includes calls to thirty countries.",
            "I can switch you today with no fee.",
            "Done, the new plan starts on the first of the month.",
        ),
        categories=("UpgradeInterest", "SalesOpportunity"),
        mood=300,
    ),
    Topic(
        "spanish",
        language="es",
        reason="Necesito ayuda con mi cuenta.",
        opener=("Hola, no puedo entrar en mi cuenta desde ayer.",),
        customer=(
            "Ya intenté cambiar la contraseña.",
            "Sí, mi correo es el de siempre.",
            "Perfecto, ya funciona.",
        ),
        agent=(
            "Le envío un enlace para restablecer la contraseña.",
            "¿Me confirma su correo electrónico?",
            "La cuenta estaba bloqueada por seguridad, ya la desbloqueé.",
        ),
        categories=("AccountAccess",),
        mood=-200,
    ),
)

AGENT_GREETINGS = (
    "Thanks for calling, how can I help you today?",
    "Good morning, you're through to customer care. What can I do for you?",
    "Hello, thanks for waiting. How can I help?",
)
AGENT_HOLD = ("Let me check that for you, one moment please.", "Bear with me while I look into it.")
AGENT_BACK = ("Thanks for holding.", "Thank you for waiting.")
CUSTOMER_ON_HOLD = ("Come on, come on.", "Hello? Are you still there?", "This music again.")
AGENT_PAUSE = ("I'll pause the recording while you read me the card number.",)
CUSTOMER_CARD = (
    "It's four one one one, one one one one, one one one one, one one one one.",
    "Expiry twelve twenty nine.",
)
AGENT_RESUME = ("Thanks, the recording is back on.",)
AGENT_CLOSE = ("Is there anything else I can help you with?",)
CUSTOMER_CLOSE = ("No, that's all, thank you.", "That's everything, thanks for your help.")
AGENT_BYE = ("Have a great day, goodbye.", "Thanks for calling, bye now.")
AGENT_GOODBYE_LATE = ("Bye!",)

IVR_WELCOME = "Thank you for calling. In a few words, tell us why you are calling."
IVR_CALLBACK = "All our agents are busy. Say callback and we will call you back as soon as possible."
CUSTOMER_CALLBACK = ("Callback, please.", "Yes, call me back.")
IVR_VOICEMAIL = "We are closed right now. Please leave a message after the tone."
VOICEMAILS = (
    "Hi, this is Maria, I'm calling about my order, please call me back on this number. Thanks.",
    "Hello, this is John. My internet went down again tonight. Please call me tomorrow morning.",
    "Hi, I have a question about my last bill, it looks wrong. You can reach me on my mobile. Bye.",
)

TRANSFER_ANNOUNCE = "I'll transfer you to our {queue} team, they can help you with that."
SECOND_GREETING = "Hi, I've got your details here from my colleague. Let's sort this out."
CONSULT_ASK = (
    "Hi, I have a customer on hold with a {topic} question, could you take it?",
    "Quick one: a caller needs help with {topic}. Can I pass them to you?",
)
CONSULT_REPLY = ("Sure, put them through.", "Yes, send them over.")
CONSULT_ANNOUNCE = "I've got a colleague who knows this well, I'll put you through now."
