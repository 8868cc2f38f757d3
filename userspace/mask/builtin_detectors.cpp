// The detectors shadowai ships. Each pattern bounds every repetition (a stream's hold-back and the
// confirmation window depend on it) and anchors on a word boundary or a distinctive prefix, so prose
// does not match; what a pattern cannot check (checksums, ranges) is the validator's job.
//
// Order matters only for ties (same span from two detectors): the detector listed first names the
// match, so vendor keys with a distinctive prefix come before the generic "key = value" and URL
// detectors, and secrets before personal data.
#include "mask/detector.h"

namespace shadowai {

const std::vector<Detector>& builtinDetectors() {
  static const std::vector<Detector> detectors = [] {
    std::vector<Detector> list;
    auto add = [&](std::string name, DetectorCategory category, std::string label, std::string description,
                   std::string pattern) -> Detector& {
      Detector& detector = list.emplace_back();
      detector.name = std::move(name);
      detector.category = category;
      detector.label = std::move(label);
      detector.description = std::move(description);
      detector.pattern = std::move(pattern);
      return detector;
    };
    auto secret = [&](std::string name, std::string label, std::string description, std::string pattern) -> Detector& {
      return add(std::move(name), DetectorCategory::kSecret, std::move(label), std::move(description), std::move(pattern));
    };
    auto pii = [&](std::string name, std::string label, std::string description, std::string pattern) -> Detector& {
      return add(std::move(name), DetectorCategory::kPii, std::move(label), std::move(description), std::move(pattern));
    };

    // --- LLM providers
    secret("anthropic-api-key", "ANTHROPIC_KEY", "Anthropic API or admin key (sk-ant-)",
           R"(\bsk-ant-[a-z]{3,10}[0-9]{2}-[A-Za-z0-9_\-]{32,200})");
    // Legacy keys are "sk-" + 48 characters, project/service keys longer; the validator keeps
    // hyphenated words ("sk-learn-compatible-...") out.
    secret("openai-api-key", "OPENAI_KEY", "OpenAI API key (sk-, sk-proj-, sk-svcacct-, sk-admin-)",
           R"(\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,200})")
        .validator = MatchValidator::kHighEntropy;
    secret("google-api-key", "GOOGLE_API_KEY", "Google / Gemini API key (AIza)", R"(\bAIza[0-9A-Za-z_\-]{35})");
    secret("groq-api-key", "GROQ_KEY", "Groq API key (gsk_)", R"(\bgsk_[A-Za-z0-9]{52}\b)");
    secret("xai-api-key", "XAI_KEY", "xAI API key (xai-)", R"(\bxai-[A-Za-z0-9]{60,100}\b)");
    secret("perplexity-api-key", "PERPLEXITY_KEY", "Perplexity API key (pplx-)", R"(\bpplx-[A-Za-z0-9]{48}\b)");
    secret("replicate-api-token", "REPLICATE_TOKEN", "Replicate API token (r8_)", R"(\br8_[A-Za-z0-9]{37}\b)");
    secret("huggingface-token", "HF_TOKEN", "Hugging Face access token (hf_)", R"(\bhf_[A-Za-z0-9]{34,40}\b)");

    // --- cloud providers
    secret("aws-access-key-id", "AWS_ACCESS_KEY", "AWS access key id (AKIA, ASIA, ...)",
           R"(\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b)");
    {
      Detector& d = secret("aws-secret-access-key", "AWS_SECRET_KEY",
                           "AWS secret access key assigned to an aws_secret_access_key setting",
                           R"(\b(?:[A-Za-z0-9]{1,20}_)?aws_?secret_?access_?key(?:\\{0,3}["'])?\s{0,3}[:=]\s{0,3}(?:\\{0,3}["'])?[A-Za-z0-9/+]{40})");
      d.caseless = true;
      d.replaceValueOnly = true;
    }
    {
      Detector& d = secret("azure-storage-key", "AZURE_STORAGE_KEY", "Azure storage account key (AccountKey=)",
                           R"(\bAccountKey=[A-Za-z0-9+/]{86}==)");
      d.replaceValueOnly = true;
    }
    secret("google-oauth-client-secret", "GOOGLE_OAUTH_SECRET", "Google OAuth client secret (GOCSPX-)",
           R"(\bGOCSPX-[A-Za-z0-9_\-]{28})");
    secret("digitalocean-token", "DIGITALOCEAN_TOKEN", "DigitalOcean token (dop_v1_, doo_v1_, dor_v1_)",
           R"(\bdo[por]_v1_[a-f0-9]{64}\b)");
    secret("databricks-token", "DATABRICKS_TOKEN", "Databricks personal access token (dapi)",
           R"(\bdapi[a-f0-9]{32}(?:-[0-9]{1,2})?\b)");
    secret("vault-token", "VAULT_TOKEN", "HashiCorp Vault token (hvs., hvb., hvr.)", R"(\bhv[sbr]\.[A-Za-z0-9_\-]{24,256})");

    // --- code hosting and packages
    secret("github-token", "GITHUB_TOKEN", "GitHub token (ghp_, gho_, ghu_, ghs_, ghr_)",
           R"(\bgh[pousr]_[A-Za-z0-9]{36,251}\b)");
    secret("github-fine-grained-token", "GITHUB_TOKEN", "GitHub fine-grained personal access token (github_pat_)",
           R"(\bgithub_pat_[A-Za-z0-9_]{36,244}\b)");
    secret("gitlab-token", "GITLAB_TOKEN", "GitLab token (glpat-, gldt-, glptt-, glrt-)",
           R"(\bgl(?:pat|dt|ptt|rt)-[A-Za-z0-9_\-]{20,64})");
    secret("npm-token", "NPM_TOKEN", "npm access token (npm_)", R"(\bnpm_[A-Za-z0-9]{36}\b)");
    // Every PyPI token is a macaroon whose base64 starts with the encoded "pypi.org" location.
    secret("pypi-token", "PYPI_TOKEN", "PyPI upload token (pypi-AgEIcHlwaS5vcmc)",
           R"(\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,300})");

    // --- SaaS
    secret("slack-token", "SLACK_TOKEN", "Slack bot, user or app token (xoxb-, xoxp-, ...)",
           R"(\bxox[abposr]-[0-9]{1,20}-[A-Za-z0-9\-]{8,250})");
    secret("slack-app-token", "SLACK_TOKEN", "Slack app-level token (xapp-)",
           R"(\bxapp-[0-9]-[A-Z0-9]{8,16}-[0-9]{8,16}-[a-f0-9]{32,80})");
    secret("slack-webhook-url", "SLACK_WEBHOOK", "Slack incoming webhook URL",
           R"(\bhttps://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{16,200})");
    secret("stripe-secret-key", "STRIPE_KEY", "Stripe live secret or restricted key (sk_live_, rk_live_)",
           R"(\b[sr]k_live_[0-9A-Za-z]{20,247}\b)");
    secret("stripe-webhook-secret", "STRIPE_WEBHOOK_SECRET", "Stripe webhook signing secret (whsec_)",
           R"(\bwhsec_[A-Za-z0-9+/=]{32,88})");
    secret("sendgrid-api-key", "SENDGRID_KEY", "SendGrid API key (SG.)",
           R"(\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})");
    secret("twilio-api-key", "TWILIO_KEY", "Twilio API key SID (SK + 32 hex)", R"(\bSK[0-9a-f]{32}\b)");
    secret("twilio-account-sid", "TWILIO_ACCOUNT", "Twilio account SID (AC + 32 hex)", R"(\bAC[0-9a-f]{32}\b)");
    secret("mailgun-api-key", "MAILGUN_KEY", "Mailgun API key (key- + 32 hex)", R"(\bkey-[0-9a-f]{32}\b)");
    secret("shopify-token", "SHOPIFY_TOKEN", "Shopify access token (shpat_, shpca_, shppa_, shpss_)",
           R"(\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b)");
    secret("linear-api-key", "LINEAR_KEY", "Linear API key (lin_api_)", R"(\blin_api_[A-Za-z0-9]{40}\b)");
    secret("new-relic-key", "NEW_RELIC_KEY", "New Relic user API key (NRAK-)", R"(\bNRAK-[A-Z0-9]{27}\b)");
    secret("grafana-service-account-token", "GRAFANA_TOKEN", "Grafana service account token (glsa_)",
           R"(\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b)");
    secret("square-token", "SQUARE_TOKEN", "Square access token or application secret (sq0atp-, sq0csp-)",
           R"(\bsq0(?:atp|csp)-[A-Za-z0-9_\-]{22,43})");
    {
      // Alone or in its usual place, the Bot API's URL (/bot<id>:<token>/getMe), where no word
      // boundary precedes the id. The bot's id is public (it is the bot's user id): only the token
      // after the ':' is replaced.
      Detector& d = secret("telegram-bot-token", "TELEGRAM_TOKEN", "Telegram bot token (id:AA..., also in /bot<id>:<token>/ URLs)",
                           R"((?:\b|bot)[0-9]{8,10}:AA[A-Za-z0-9_\-]{33})");
      d.replaceValueOnly = true;
    }
    secret("age-secret-key", "AGE_SECRET_KEY", "age encryption secret key (AGE-SECRET-KEY-1)",
           R"(\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b)");

    // --- structural secrets
    secret("jwt", "JWT", "JSON Web Token (base64url JSON header and payload)",
           R"(\beyJ[A-Za-z0-9_\-]{8,2048}\.eyJ[A-Za-z0-9_\-]{8,4096}\.[A-Za-z0-9_\-]{0,1024})")
        .validator = MatchValidator::kJwt;
    // Line breaks real, written as \n escapes (a service-account JSON file pasted into a prompt),
    // escaped twice, or absent.
    secret("private-key-pem", "PRIVATE_KEY", "PEM private key block (RSA, EC, OpenSSH, PKCS#8, PGP)",
           R"(-----BEGIN (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s:,\\\-]{16,8192}-----END (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----)")
        .defaultStyle = ReplacementStyle::kRedact;
    // Any scheme (postgres, mongodb+srv, redis, amqps, https, ftp, git+ssh, ...); the user may be
    // empty (redis://:password@host).
    secret("connection-url-password", "CREDENTIAL_URL", "URL with a password (scheme://user:password@host)",
           R"(\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/@"'<>]{0,64}:[^\s/@"'<>]{1,128}@[A-Za-z0-9.\-_]{1,253}(?::[0-9]{1,5})?)");
    {
      // HTTP Basic credentials: the header's value is base64 of user:password, which the validator
      // decodes; "Basic" followed by a word is prose.
      Detector& d = secret("basic-auth", "BASIC_AUTH", "HTTP Basic credentials (Authorization: Basic base64(user:password))",
                           R"(\bBasic[ \t]{1,3}[A-Za-z0-9+/]{4,1024}={0,2})");
      d.caseless = true;
      d.validator = MatchValidator::kBasicCredentials;
      // With the other secrets its end pass made theirs 60 % slower on prose (Detector::endPassDatabase).
      d.endPassDatabase = "http-basic";
    }
    {
      // curl -u user:password, --user user:password (wget and others name it --password=, which
      // secret-assignment finds). Only the password is replaced; numbers (docker -u 1000:1000) and
      // $VARIABLES pass.
      Detector& d = secret("command-line-password", "PASSWORD", "password in curl -u / --user user:password",
                           R"(\B(?:-u|--user)[ =]?['"]?[^\s:'"\-][^\s:'"]{0,63}:[^\s'"]{1,128})");
      d.replaceValueOnly = true;
      d.validator = MatchValidator::kPasswordValue;
    }
    {
      // Credentials in HTTP headers or examples; the validator keeps prose ("bearer of bad news") out.
      Detector& d = secret("bearer-token", "BEARER_TOKEN", "bearer token (Authorization: Bearer ...)",
                           R"(\bBearer[ \t]{1,3}[A-Za-z0-9._~+/\-]{16,1024}={0,2})");
      d.validator = MatchValidator::kHighEntropy;
    }
    {
      // The generic "name = value" credential: only the value is replaced, and only when it looks
      // generated (letters mixed with digits or symbols, not a placeholder like "<your-key>").
      // The name: any prefix, one of the words credentials are named by (in snake, kebab, camel or
      // Pascal case: the match is caseless), and an optional key/token/value/string suffix, so
      // SECRET_KEY, secretKey, SecretAccessKey, SharedAccessKey, X-API-Key and DB_PASSWORD are
      // names while "tokenizer" and "max_tokens" are not.
      // The value never ends on what closes a sentence or a bracket around it ("(password=X)." is
      // X): those characters stay where they were. Quotes may be escaped once or twice (a JSON
      // document pasted into a prompt that is itself JSON: \"password\": \"X\").
      const std::string name =
          R"(\b[A-Za-z0-9_\-]{0,32}(?:password|passwd|pwd|secret|api[_\-]?key|access[_\-]?key|account[_\-]?key|private[_\-]?key|access[_\-]?token|auth[_\-]?token|token|credentials?|client[_\-]?secret|connection[_\-]?string)(?:[_\-]?(?:key|token|value|string))?(?:\\{0,3}["'])?\s{0,3}[:=]\s{0,3}(?:\\{0,3}["'])?)";
      Detector& d = secret("secret-assignment", "SECRET",
                           "value assigned to a password, secret, key, token or credential setting (.env, YAML, JSON, headers, ...)",
                           name + R"([^\s"'<>,;]{5,199}[^\s"'<>,;.:?)\]}\\])");
      d.caseless = true;
      d.replaceValueOnly = true;
      d.validator = MatchValidator::kHighEntropy;
      // Values past 200 characters (an AWS session token, a SAS signature) are replaced whole by a
      // detector of their own: one pattern for both would make every assignment's match window 20
      // times longer, and dense personal data masks at half the speed. Overlapping matches resolve
      // to the longer, so no tail of a long value goes out after the placeholder.
      Detector& longer = secret("secret-assignment-long", "SECRET",
                                "value of 200 characters or more assigned to the same settings",
                                name + R"([^\s"'<>,;]{199,4095}[^\s"'<>,;.:?)\]}\\])");
      longer.caseless = true;
      longer.replaceValueOnly = true;
      longer.validator = MatchValidator::kHighEntropy;
      longer.extendsToValueEnd = true;
    }
    {
      // A Kubernetes env entry names the setting on one line and gives its value on the next:
      //   - name: DB_PASSWORD
      //     value: "..."
      // Only the value is replaced; valueFrom (a secretKeyRef) is no value.
      Detector& d = secret("kubernetes-env-secret", "SECRET", "value of a Kubernetes env entry whose name is a credential's",
                           R"(\bname:[ \t]{0,3}["']?[A-Za-z0-9_.\-]{0,32}(?:password|passwd|pwd|secret|api[_\-]?key|access[_\-]?key|private[_\-]?key|token|credentials?|connection[_\-]?string)[A-Za-z0-9_.\-]{0,32}["']?[ \t]{0,8}\r?\n[ \t]{0,16}value:[ \t]{0,3}["']?[^\s"']{4,199}[^\s"',;.:?)\]}\\])");
      d.caseless = true;
      d.replaceValueOnly = true;
      d.valueMarker = "value:";
      d.validator = MatchValidator::kHighEntropy;
    }

    // --- personal data
    pii("email", "EMAIL", "email address",
        R"(\b[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}\b)")
        // From the '@' on: the same ends, and the '@' literal drives the scan.
        .endPassPattern = R"(@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}\b)";
    // NANP with separators ("(415) 555-2671", "+1 415.555.2671"), international with a leading '+'
    // and separated groups, or bare E.164. Dates, versions and plain numbers lack the shape.
    {
      Detector& phone = pii("phone-number", "PHONE", "phone number (NANP, international with +, E.164)",
        R"((?:\+1[ .\-]?)?(?:\([2-9][0-9]{2}\)|\b[2-9][0-9]{2})[ .\-]?[2-9][0-9]{2}[ .\-][0-9]{4}\b|\+[1-9][0-9]{0,2}[ .\-]?(?:\(0\)[ .\-]?)?[0-9]{1,5}(?:[ .\-][0-9]{2,8}){1,4}\b|\+[1-9][0-9]{7,14}\b)");
      // NANP from its exchange on (the same ends, without the optional area-code prefixes).
      phone.endPassPattern =
        R"([2-9][0-9]{2}[ .\-][0-9]{4}\b|\+[1-9][0-9]{0,2}[ .\-]?(?:\(0\)[ .\-]?)?[0-9]{1,5}(?:[ .\-][0-9]{2,8}){1,4}\b|\+[1-9][0-9]{7,14}\b)";
      phone.wholeNumberToken = true;
    }
    {
      // National formats of the largest economies, as people write them (+ and NANP forms are
      // phone-number's). Each alternative is a numbering plan's shape: its prefixes and group
      // lengths; the validator wants 10 to 12 digits in all, so short digit groups (dates, times,
      // versions) never qualify. The groups must be separated: a bare run of digits is an id.
      //  - trunk 0 with an area code: GB 020 3668 6459, 0161 496 0000, 07700 900123; DE 030 12345678,
      //    0151/12345678; JP 03-4627-6521, 090-1234-5678; IT 06 6982 1234; IN 011 2345 6789;
      //    CN 010-1234 5678, (010) 12345678; FR 05 72 62 03 95, also dotted 05.72.62.03.95;
      //  - without one: CN mobiles 138 0013 8000, IT mobiles 347 123 4567, IN mobiles 98765 43210,
      //    BR (11) 96419-8796 and (21) 2345-6789.
      Detector& d = pii("phone-number-national", "PHONE",
                        "phone number in a national format (GB, DE, FR, IT, JP, CN, IN, BR)",
                        R"(\(0[1-9][0-9]{1,3}\) ?[0-9]{3,8}(?:[ \-][0-9]{2,4}){0,2}\b)"
                        R"(|\b0[1-9][0-9]{0,4}[ /\-][0-9]{2,8}(?:[ \-][0-9]{2,4}){0,3}\b)"
                        R"(|\b0[1-9](?:\.[0-9]{2}){4}\b)"
                        R"(|\b1[3-9][0-9][ \-][0-9]{4}[ \-][0-9]{4}\b)"
                        R"(|\b3[0-9]{2}[ \-][0-9]{3}[ \-]?[0-9]{3,4}\b)"
                        R"(|\b[6-9][0-9]{4}[ \-][0-9]{5}\b)"
                        R"(|\([1-9]{2}\) ?(?:9[0-9]{4}|[2-5][0-9]{3})-[0-9]{4}\b)");
      d.validator = MatchValidator::kNationalPhone;
      d.wholeNumberToken = true;
      // Every alternative ends on two digits or more: the same ends, on a pattern Vectorscan scans
      // prose at full speed with. A separator or a parenthesis in it (the exact shape of the ends)
      // made the whole end pass 4x slower: spaces are everywhere in prose.
      d.endPassPattern = R"([0-9]{2}\b)";
    }
    pii("credit-card", "CARD_NUMBER", "payment card number (Visa, Mastercard, Amex, Discover, JCB, Diners; Luhn)",
        R"(\b(?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|3[47][0-9]{2}|3[0689][0-9]{2}|6011|64[4-9][0-9]|65[0-9]{2}|35[0-9]{2})(?:[ \-]?[0-9]){9,15}\b)")
        .validator = MatchValidator::kLuhn;
    pii("iban", "IBAN", "international bank account number (mod-97 checked)",
        R"(\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b)")
        .validator = MatchValidator::kIbanChecksum;
    pii("us-ssn", "US_SSN", "US social security number (AAA-GG-SSSS or AAA GG SSSS, never-issued ranges excluded)",
        R"(\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b|\b[0-9]{3} [0-9]{2} [0-9]{4}\b)")
        .validator = MatchValidator::kUsSsn;
    pii("uk-nino", "UK_NINO", "UK national insurance number", R"(\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b)");
    {
      Detector& d = pii("date-of-birth", "DATE_OF_BIRTH", "date assigned to a date-of-birth label (DOB: 1990-04-12)",
                        R"(\b(?:date of birth|birth ?date|d\.?o\.?b\.?)\s{0,3}[:=]\s{0,3}(?:[0-9]{1,2}[/.\-][0-9]{1,2}[/.\-][0-9]{2,4}|[0-9]{4}-[0-9]{2}-[0-9]{2})\b)");
      d.caseless = true;
      d.replaceValueOnly = true;
    }
    {
      Detector& d = pii("ipv4-address", "IP_ADDRESS", "IPv4 address", R"(\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b)");
      d.validator = MatchValidator::kIpv4;
      d.wholeNumberToken = true;
      // From the second dot on: the same ends, driven by the '.' literal instead of every digit.
      d.endPassPattern = R"(\.[0-9]{1,3}\.[0-9]{1,3}\b)";
    }
    {
      Detector& d = pii("ipv6-address", "IP_ADDRESS", "IPv6 address, full or compressed",
                        R"((?:\b[0-9A-Fa-f]{1,4}|:):(?:[0-9A-Fa-f]{0,4}:){0,6}(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b|[0-9A-Fa-f]{1,4}\b|:))");
      d.validator = MatchValidator::kIpv6;
      // Everything from the first ':' on: the same match ends, found at ~10x the speed, since
      // the leading hex group otherwise makes Vectorscan track every hex-letter word of prose.
      d.endPassPattern = R"(:(?:[0-9A-Fa-f]{0,4}:){0,6}(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b|[0-9A-Fa-f]{1,4}\b|:))";
    }
    pii("mac-address", "MAC_ADDRESS", "MAC address (colon or dash separated)",
        R"(\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\b|\b[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}\b)")
        // The last two groups with their separators: the same ends, anchored on the separators.
        .endPassPattern = R"((?::[0-9A-Fa-f]{2}){2}\b|(?:-[0-9A-Fa-f]{2}){2}\b)";
    // A vendor token written as its prefix and a run of one character is a placeholder from
    // documentation or a template, not a key: every secret detector without a check of its own
    // lets it pass.
    for (Detector& detector : list) {
      if (detector.category == DetectorCategory::kSecret && detector.validator == MatchValidator::kNone) {
        detector.validator = MatchValidator::kNotPlaceholder;
      }
    }
    return list;
  }();
  return detectors;
}

}  // namespace shadowai
