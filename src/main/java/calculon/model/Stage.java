package calculon.model;

/** The passes a layer takes part in during one training step. WGRAD also carries re-communication. */
public enum Stage { FW, AGRAD, WGRAD, OPTIM }
