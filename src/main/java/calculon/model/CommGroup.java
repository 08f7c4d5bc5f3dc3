package calculon.model;

/**
 * Which parallel group a layer's communication belongs to, and so which accumulator its comm
 * time goes to: tensor parallel, expert parallel (all-to-all), expert slicing or context parallel.
 */
public enum CommGroup { TP, EP, ES, CP }
